import Foundation

/// Sends syslog messages over a local datagram socket, UDP or TCP. Never blocks: a send that
/// cannot complete now fails, and the caller keeps the message queued.
final class SyslogTransport {
  let target: DaemonConfig.SyslogTarget
  let framing: DaemonConfig.SyslogFormat
  private var fd: Int32 = -1

  init(target: DaemonConfig.SyslogTarget, framing: DaemonConfig.SyslogFormat) {
    self.target = target
    self.framing = framing
  }

  deinit { close() }

  func close() {
    if fd >= 0 { Glibc.close(fd) }
    fd = -1
  }

  /// True when the message left; false when the receiver is not there (yet).
  func send(_ message: String) -> Bool {
    if case .none = target { return true }
    if fd < 0 && !connect() { return false }
    var bytes = Array(message.utf8)
    if case .tcp = target {
      // RFC 6587: octet counting for RFC 5424, a trailing newline for the old format.
      bytes = framing == .rfc5424 ? Array("\(bytes.count) ".utf8) + bytes : bytes + [0x0A]
    }
    let sent = bytes.withUnsafeBytes {
      Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
    }
    if sent == bytes.count { return true }
    // Busy (a full receive queue): keep the socket and try later. Anything else: the receiver
    // restarted or went away, so reconnect next time.
    if !(sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) { close() }
    return false
  }

  private func connect() -> Bool {
    switch target {
    case .none:
      return true
    case .unix(let path):
      var addr = sockaddr_un()
      addr.sun_family = sa_family_t(AF_UNIX)
      let bytes = Array(path.utf8)
      guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return false }
      withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
      }
      return open(family: AF_UNIX, type: SOCK_DGRAM) { s in
        withUnsafePointer(to: &addr) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
          }
        }
      }
    case .udp(let host, let port), .tcp(let host, let port):
      let type: Int32
      if case .udp = target { type = Int32(SOCK_DGRAM.rawValue) } else { type = Int32(SOCK_STREAM.rawValue) }
      return withSockaddr(host: host, port: port) { sa, len, family in
        open(family: family, type: __socket_type(UInt32(type))) { Glibc.connect($0, sa, len) }
      }
    }
  }

  private func open(family: Int32, type: __socket_type, connect: (Int32) -> Int32) -> Bool {
    let s = socket(family, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard s >= 0 else { return false }
    if connect(s) != 0 {
      Glibc.close(s)
      return false
    }
    fd = s
    return true
  }
}

/// Calls body with a sockaddr for a numeric IPv4 or IPv6 address.
func withSockaddr<T>(host: String, port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t, Int32) -> T)
  -> T
{
  var v4 = sockaddr_in()
  if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
    v4.sin_family = sa_family_t(AF_INET)
    v4.sin_port = port.bigEndian
    return withUnsafePointer(to: &v4) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        body($0, socklen_t(MemoryLayout<sockaddr_in>.size), AF_INET)
      }
    }
  }
  var v6 = sockaddr_in6()
  _ = inet_pton(AF_INET6, host, &v6.sin6_addr)
  v6.sin6_family = sa_family_t(AF_INET6)
  v6.sin6_port = port.bigEndian
  return withUnsafePointer(to: &v6) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      body($0, socklen_t(MemoryLayout<sockaddr_in6>.size), AF_INET6)
    }
  }
}
