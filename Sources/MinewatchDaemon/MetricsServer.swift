import Foundation

/// A minimal HTTP/1.0 responder for GET /metrics on one listening socket, on its own thread.
/// Requests are read with a size cap and a timeout; anything but GET /metrics gets 404.
public final class MetricsServer: @unchecked Sendable {
  private let fd: Int32
  private let metrics: DaemonMetrics
  private let stopped = NSLock()
  private var stop = false
  private var thread: Thread?

  /// Binds ADDRESS:PORT (numeric address); throws with the reason when it cannot.
  public init(listen: String, metrics: DaemonMetrics) throws {
    guard let (host, port) = DaemonConfig.hostPort(listen) else {
      throw MinewatchDaemonError.setup("metrics_listen: '\(listen)' is not ADDRESS:PORT")
    }
    self.metrics = metrics
    let family = host.contains(":") ? AF_INET6 : AF_INET
    let s = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard s >= 0 else {
      throw MinewatchDaemonError.setup("metrics_listen: socket: \(String(cString: strerror(errno)))")
    }
    var one: Int32 = 1
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    let rc = withSockaddr(host: host, port: port) { sa, len, _ in bind(s, sa, len) }
    guard rc == 0, Glibc.listen(s, 16) == 0 else {
      let why = String(cString: strerror(errno))
      close(s)
      throw MinewatchDaemonError.setup("metrics_listen: cannot listen on \(listen): \(why)")
    }
    fd = s
  }

  public func start() {
    let t = Thread { [self] in serve() }
    t.name = "minewatch-metrics"
    thread = t
    t.start()
  }

  public func shutdown() {
    stopped.lock()
    stop = true
    stopped.unlock()
  }

  private var stopping: Bool {
    stopped.lock()
    defer { stopped.unlock() }
    return stop
  }

  private func serve() {
    while !stopping {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&p, 1, 250) > 0 else { continue }
      let c = accept(fd, nil, nil)
      guard c >= 0 else { continue }
      var tv = timeval(tv_sec: 2, tv_usec: 0)
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
      var request = [UInt8](repeating: 0, count: 2048)
      let n = recv(c, &request, request.count, 0)
      let line =
        n > 0 ? String(decoding: request[0..<n], as: UTF8.self).prefix { $0 != "\r" && $0 != "\n" } : ""
      let body: [UInt8]
      let status: String
      if line.hasPrefix("GET /metrics ") || line == "GET /metrics" {
        body = metrics.exposition()
        status = "200 OK"
      } else {
        body = Array("not found\n".utf8)
        status = "404 Not Found"
      }
      let head =
        "HTTP/1.0 \(status)\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
      let out = Array(head.utf8) + body
      _ = out.withUnsafeBytes { Glibc.send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      close(c)
    }
    close(fd)
  }
}

public enum MinewatchDaemonError: Error, CustomStringConvertible {
  case setup(String)
  public var description: String {
    switch self {
    case .setup(let s): return s
    }
  }
}
