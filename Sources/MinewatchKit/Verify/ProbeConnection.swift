import CTLS
import Foundation

/// One connection of a verification probe: TCP from an optional source address, optionally
/// TLS, every step under one deadline. Certificates are not checked: pools commonly use
/// self-signed ones, and the probe asks what the endpoint is, not whether to trust it.
final class ProbeConnection {
  enum Failure: Error, Equatable, CustomStringConvertible {
    case refused
    case timeout(String)
    case unreachable(String)
    case tlsFailed(String)
    case sourceUnusable(String)

    var description: String {
      switch self {
      case .refused: "connection refused"
      case .timeout(let step): "timed out (\(step))"
      case .unreachable(let why): "unreachable: \(why)"
      case .tlsFailed(let why): "TLS handshake failed: \(why)"
      case .sourceUnusable(let why): "source address unusable: \(why)"
      }
    }
  }

  private let fd: Int32
  private var ctx: OpaquePointer?
  private var ssl: OpaquePointer?
  private let deadlineNs: UInt64
  /// The certificate's subject, when TLS was spoken (pools often name themselves in it).
  private(set) var certificateSubject: String?

  static func monotonicNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }

  init(
    to ip: IPAddress, port: UInt16, from source: IPAddress?, tls: Bool, serverName: String?, timeout: Double
  )
    throws(Failure)
  {
    deadlineNs = Self.monotonicNs() + UInt64(max(0.05, timeout) * 1e9)
    let family = ip.family == 4 ? AF_INET : AF_INET6
    fd = socket(
      family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { throw .unreachable("socket: " + String(cString: strerror(errno))) }
    do {
      if let source {
        guard source.family == ip.family else {
          throw Failure.sourceUnusable("\(source) is not of the target's address family")
        }
        let rc = Self.withSockaddr(source, port: 0) { bind(fd, $0, $1) }
        guard rc == 0 else { throw Failure.sourceUnusable("\(source): " + String(cString: strerror(errno))) }
      }
      try connect(ip, port)
      if tls { try handshake(serverName: serverName) }
    } catch let f as Failure {
      close()
      throw f
    } catch {
      close()
      throw .unreachable("\(error)")
    }
  }

  deinit { close() }

  private var closed = false
  private func close() {
    guard !closed else { return }
    closed = true
    if let ssl { SSL_free(ssl) }
    if let ctx { SSL_CTX_free(ctx) }
    ssl = nil
    ctx = nil
    Glibc.close(fd)
  }

  private var remainingMs: Int32 {
    let now = Self.monotonicNs()
    return now >= deadlineNs ? 0 : Int32(min(UInt64(Int32.max), (deadlineNs - now) / 1_000_000 + 1))
  }

  /// Waits for the socket to become readable or writable; false at the deadline.
  private func wait(_ events: Int16, until deadline: UInt64? = nil) -> Bool {
    while true {
      var ms = remainingMs
      if let deadline {
        let now = Self.monotonicNs()
        ms = min(ms, now >= deadline ? 0 : Int32(min(UInt64(Int32.max), (deadline - now) / 1_000_000 + 1)))
      }
      if ms == 0 { return false }
      var p = pollfd(fd: fd, events: events, revents: 0)
      let n = poll(&p, 1, ms)
      if n > 0 { return true }
      if n == 0 { return false }
      if errno != EINTR { return false }
    }
  }

  private static func withSockaddr<T>(
    _ ip: IPAddress, port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T
  ) -> T {
    if ip.family == 4 {
      var sa = sockaddr_in()
      sa.sin_family = sa_family_t(AF_INET)
      sa.sin_port = port.bigEndian
      withUnsafeMutableBytes(of: &sa.sin_addr) { $0.copyBytes(from: ip.bytes) }
      return withUnsafePointer(to: &sa) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    }
    var sa = sockaddr_in6()
    sa.sin6_family = sa_family_t(AF_INET6)
    sa.sin6_port = port.bigEndian
    withUnsafeMutableBytes(of: &sa.sin6_addr) { $0.copyBytes(from: ip.bytes) }
    return withUnsafePointer(to: &sa) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
      }
    }
  }

  private func connect(_ ip: IPAddress, _ port: UInt16) throws(Failure) {
    let rc = Self.withSockaddr(ip, port: port) { Glibc.connect(fd, $0, $1) }
    if rc != 0 && errno != EINPROGRESS {
      if errno == ECONNREFUSED { throw .refused }
      throw .unreachable(String(cString: strerror(errno)))
    }
    if rc != 0 {
      guard wait(Int16(POLLOUT)) else { throw .timeout("connect") }
      var err: Int32 = 0
      var len = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
      if err == ECONNREFUSED { throw .refused }
      if err == ETIMEDOUT { throw .timeout("connect") }
      if err != 0 { throw .unreachable(String(cString: strerror(err))) }
    }
  }

  private static func sslError() -> String {
    let code = ERR_get_error()
    guard code != 0 else { return "the peer closed or reset the connection" }
    var buf = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(code, &buf, buf.count)
    ERR_clear_error()
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  private func handshake(serverName: String?) throws(Failure) {
    guard let c = SSL_CTX_new(TLS_client_method()) else { throw .tlsFailed(Self.sslError()) }
    ctx = c
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nil)
    guard let s = SSL_new(c) else { throw .tlsFailed(Self.sslError()) }
    ssl = s
    SSL_set_fd(s, fd)
    if let serverName, !serverName.isEmpty {
      _ = serverName.withCString {
        SSL_ctrl(
          s, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name),
          UnsafeMutableRawPointer(mutating: $0))
      }
    }
    while true {
      ERR_clear_error()
      let rc = SSL_connect(s)
      if rc == 1 { break }
      let e = SSL_get_error(s, rc)
      if e == SSL_ERROR_WANT_READ {
        guard wait(Int16(POLLIN)) else { throw .tlsFailed("no TLS answer within the timeout") }
      } else if e == SSL_ERROR_WANT_WRITE {
        guard wait(Int16(POLLOUT)) else { throw .tlsFailed("no TLS answer within the timeout") }
      } else {
        throw .tlsFailed(Self.sslError())
      }
    }
    if let cert = SSL_get1_peer_certificate(s) {
      if let name = X509_get_subject_name(cert), let line = X509_NAME_oneline(name, nil, 0) {
        certificateSubject = String(String(cString: line).prefix(200))
        CRYPTO_free(line, #fileID, #line)
      }
      X509_free(cert)
    }
  }

  /// Sends everything or fails at the deadline.
  func send(_ bytes: [UInt8]) -> Bool {
    var off = 0
    while off < bytes.count {
      let n: Int = bytes[off...].withUnsafeBytes { b in
        if let ssl {
          ERR_clear_error()
          return Int(SSL_write(ssl, b.baseAddress, Int32(b.count)))
        }
        return Glibc.send(fd, b.baseAddress, b.count, Int32(MSG_NOSIGNAL))
      }
      if n > 0 {
        off += n
        continue
      }
      if let ssl {
        let e = SSL_get_error(ssl, Int32(n))
        guard e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ,
          wait(Int16(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT))
        else { return false }
      } else {
        guard n < 0, errno == EAGAIN || errno == EINTR, wait(Int16(POLLOUT)) else { return false }
      }
    }
    return true
  }

  /// Reads until `enough` says so, the peer closes, `limit` bytes came or the deadline (or
  /// the earlier `settle` deadline that `enough` may set) passes.
  func receive(limit: Int, enough: ([UInt8]) -> Bool) -> (bytes: [UInt8], closed: Bool) {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
      let want = min(chunk.count, limit - out.count)
      let n: Int = chunk.withUnsafeMutableBytes { b in
        if let ssl {
          ERR_clear_error()
          return Int(SSL_read(ssl, b.baseAddress, Int32(want)))
        }
        return recv(fd, b.baseAddress, want, 0)
      }
      if n > 0 {
        out += chunk[0..<n]
        if enough(out) { break }
        continue
      }
      if let ssl {
        let e = SSL_get_error(ssl, Int32(n))
        if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE {
          guard wait(Int16(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), until: settleNs) else { break }
          continue
        }
        return (out, true)
      }
      if n == 0 { return (out, true) }
      guard errno == EAGAIN || errno == EINTR else { return (out, true) }
      guard wait(Int16(POLLIN), until: settleNs) else { break }
    }
    return (out, false)
  }

  /// An earlier end for `receive`: once an answer has begun, what belongs to it follows at once.
  var settleNs: UInt64?
}
