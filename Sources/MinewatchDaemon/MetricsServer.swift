import Foundation

/// A minimal HTTP/1.0 responder for GET /metrics on one listening socket, on its own thread.
/// Requests are read with a size cap and a deadline; anything but GET /metrics gets 404; a slow
/// or silent client cannot hold the others (see `serve`).
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

  /// Clients served at once; past this, the oldest is dropped for a newcomer.
  static let maxClients = 64
  /// A client has this long to send its request line and take the answer.
  static let clientDeadlineNs: UInt64 = 2_000_000_000

  private final class Client {
    let fd: Int32
    let deadline: UInt64
    var request: [UInt8] = []
    var reply: [UInt8]?
    var sent = 0
    init(fd: Int32, deadline: UInt64) {
      self.fd = fd
      self.deadline = deadline
    }
  }

  private static func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }

  /// One thread, every socket non-blocking, one poll over the listener and all clients: a client
  /// that connects and says nothing, or never reads its answer, holds only its own slot until
  /// its deadline, never the others' scrapes.
  private func serve() {
    var clients: [Client] = []
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    while !stopping {
      var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
      for c in clients {
        fds.append(pollfd(fd: c.fd, events: Int16(c.reply == nil ? POLLIN : POLLOUT), revents: 0))
      }
      _ = poll(&fds, nfds_t(fds.count), 100)
      let now = Self.nowNs()
      if fds[0].revents & Int16(POLLIN) != 0 {
        while true {
          let c = accept(fd, nil, nil)
          guard c >= 0 else { break }
          _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
          _ = fcntl(c, F_SETFD, FD_CLOEXEC)
          if clients.count >= Self.maxClients {
            close(clients.removeFirst().fd)
          }
          clients.append(Client(fd: c, deadline: now + Self.clientDeadlineNs))
        }
      }
      for (i, c) in clients.enumerated() where i + 1 < fds.count && fds[i + 1].revents != 0 {
        step(c)
      }
      clients.removeAll { c in
        let done = c.reply != nil && c.sent >= c.reply!.count
        if done || now >= c.deadline || c.sent < 0 {
          close(c.fd)
          return true
        }
        return false
      }
    }
    for c in clients { close(c.fd) }
    close(fd)
  }

  /// Reads what the client sent (the request line, 2 KiB at most) or writes what is left of
  /// its answer, without ever blocking.
  private func step(_ c: Client) {
    if c.reply == nil {
      var buf = [UInt8](repeating: 0, count: 2048 - c.request.count)
      let n = buf.isEmpty ? 0 : recv(c.fd, &buf, buf.count, 0)
      if n > 0 { c.request += buf[0..<n] }
      let complete = c.request.contains(0x0A) || c.request.count >= 2048 || n == 0
      guard complete else { return }
      let line = String(decoding: c.request, as: UTF8.self).prefix { $0 != "\r" && $0 != "\n" }
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
      c.reply = Array(head.utf8) + body
    }
    guard let reply = c.reply, c.sent >= 0, c.sent < reply.count else { return }
    let n = reply[c.sent...].withUnsafeBytes {
      Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
    }
    if n > 0 {
      c.sent += n
    } else if n < 0 && errno != EAGAIN && errno != EINTR {
      c.sent = -1  // the client is gone
    }
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
