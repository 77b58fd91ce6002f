import Foundation

@testable import MinewatchDaemon

enum Paths {
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let signatures = repo.appendingPathComponent("signatures").path
  static let captures = repo.appendingPathComponent("Tests/Fixtures/captures")
  static func capture(_ name: String) -> String { captures.appendingPathComponent(name).path }

  static func scratch(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mw-daemon-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(UUID().uuidString.prefix(8) + "-" + name).path
  }
}

/// A datagram socket bound to a path: a syslog or notify receiver made by the test.
/// Shared with its collecting thread under its lock.
final class DatagramReceiver: @unchecked Sendable {
  let path: String
  let fd: Int32

  init(path: String) throws {
    self.path = path
    unlink(path)
    fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
    let rc = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard rc == 0 else { throw POSIXError(.EADDRINUSE) }
    var tv = timeval(tv_sec: 0, tv_usec: 200_000)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
  }

  deinit {
    close(fd)
    unlink(path)
  }

  private let lock = NSLock()
  private var collected: [String] = []
  private var collecting = false

  /// Reads on a thread of its own from now on, as systemd reads its notify socket.
  func startCollecting() {
    lock.lock()
    collecting = true
    lock.unlock()
    Thread { [self] in
      while true {
        lock.lock()
        let go = collecting
        lock.unlock()
        if !go { break }
        let got = receiveAll()
        lock.lock()
        collected += got
        lock.unlock()
      }
    }.start()
  }

  /// What the collecting thread has read so far.
  var received: [String] {
    lock.lock()
    defer { lock.unlock() }
    return collected
  }

  func stopCollecting() {
    lock.lock()
    collecting = false
    lock.unlock()
  }

  /// Every datagram waiting now (and arriving within the timeout).
  func receiveAll() -> [String] {
    var out: [String] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = recv(fd, &buf, buf.count, 0)
      if n <= 0 { break }
      out.append(String(decoding: buf[0..<n], as: UTF8.self))
    }
    return out
  }
}

func config(_ pairs: [(String, String)]) throws -> DaemonConfig {
  var c = DaemonConfig()
  c.signatures = Paths.signatures
  c.syslog = .none
  for (k, v) in pairs { try c.set(k, v) }
  return c
}
