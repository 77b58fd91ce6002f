import Foundation

/// systemd's notify protocol: datagrams "READY=1", "STATUS=…", "WATCHDOG=1", "STOPPING=1" to
/// $NOTIFY_SOCKET (a path, or @name for the abstract namespace). Without it, nothing is sent.
public final class Notifier: @unchecked Sendable {
  private let fd: Int32
  private var address = sockaddr_un()
  private let length: socklen_t
  /// Half of WATCHDOG_USEC, when systemd asked for pings.
  public let watchdogInterval: Double?
  private var lastPing = 0.0
  private let lock = NSLock()

  public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
    guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
    var bytes = Array(path.utf8)
    if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
    length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
    fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return nil }
    if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init), usec > 0 {
      watchdogInterval = usec / 1e6 / 2
    } else {
      watchdogInterval = nil
    }
  }

  deinit { close(fd) }

  public func send(_ state: String) {
    lock.lock()
    defer { lock.unlock() }
    var addr = address
    let bytes = Array(state.utf8)
    _ = withUnsafePointer(to: &addr) { a in
      a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
        // Never wait: a notification that cannot go now is not worth stalling the capture.
        bytes.withUnsafeBytes {
          Glibc.sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), sa, length)
        }
      }
    }
  }

  /// WATCHDOG=1 at most every half watchdog period; called from the capture loop, so a stuck
  /// loop stops the pings and systemd restarts the service.
  public func watchdog() {
    guard let interval = watchdogInterval else { return }
    let now = Date().timeIntervalSince1970
    if now - lastPing >= interval {
      lastPing = now
      send("WATCHDOG=1")
    }
  }
}
