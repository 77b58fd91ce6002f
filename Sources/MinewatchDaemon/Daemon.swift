import Foundation
import Logging
import MinewatchCore
import MinewatchKit
import ServiceLifecycle
import UnixSignals

/// Commands for the capture thread, posted from signal handlers (any thread).
final class Mailbox: @unchecked Sendable {
  enum Command: Sendable { case reload, hostTable, stop }
  private let lock = NSLock()
  private var pending: [Command] = []

  func post(_ c: Command) {
    lock.lock()
    pending.append(c)
    lock.unlock()
  }

  func take() -> [Command] {
    lock.lock()
    defer { lock.unlock() }
    let out = pending
    pending = []
    return out
  }
}

/// The live capture: one libpcap handle read on the capture thread, or (workers > 1) a fanout
/// group whose workers read on threads of their own and hand their packets to the capture
/// thread's engine. Shared with the signal task only to break a running read, which both
/// libpcap (pcap_breakloop) and the group (mw_live_break) allow from another thread.
struct LiveCapture: @unchecked Sendable {
  enum Source {
    case single(OpaquePointer)
    case group(OpaquePointer)
  }
  let source: Source

  /// Opens the interface as the config says (before privileges are dropped).
  static func open(_ config: DaemonConfig, interface: String) throws -> LiveCapture {
    var err = [CChar](repeating: 0, count: 512)
    let source: Source?
    if config.workers > 1 {
      source = mw_live_open(
        interface, Int32(config.workers), Int32(config.snaplen), Int32(config.bufferMiB << 20),
        config.promiscuous ? 1 : 0, config.immediate ? 1 : 0, config.filter, &err, err.count
      ).map(Source.group)
    } else {
      source = mw_capture_open_live(
        interface, Int32(config.snaplen), Int32(config.bufferMiB << 20), config.promiscuous ? 1 : 0,
        config.immediate ? 1 : 0, 250, config.filter, &err, err.count
      ).map(Source.single)
    }
    guard let source else {
      throw MinewatchError.unreadable(
        String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return LiveCapture(source: source)
  }

  var linkType: Int32 {
    switch source {
    case .single(let c): return mw_capture_linktype(c)
    case .group(let g): return mw_live_linktype(g)
    }
  }

  /// Feeds what has arrived into the engine: the packets read (0 when the link was idle for
  /// the read timeout), -2 after a break, -1 on error (message in err).
  func read(into engine: OpaquePointer, err: inout [CChar]) -> Int32 {
    switch source {
    case .single(let c): return mw_capture_live_dispatch(c, engine, 4096, &err, err.count)
    case .group(let g): return mw_live_run(g, engine, 4096, 250, &err, err.count)
    }
  }

  func breakLoop() {
    switch source {
    case .single(let c): mw_capture_break(c)
    case .group(let g): mw_live_break(g)
    }
  }

  /// The kernel's counters, one record per capture thread.
  func stats() -> [SummaryAlert.CaptureWorker]? {
    var r: UInt64 = 0
    var d: UInt64 = 0
    var i: UInt64 = 0
    switch source {
    case .single(let c):
      guard mw_capture_stats(c, &r, &d, &i) == 0 else { return nil }
      return [SummaryAlert.CaptureWorker(worker: 0, received: r, dropped: d, ifDropped: i)]
    case .group(let g):
      mw_live_refresh_stats(g)
      var out: [SummaryAlert.CaptureWorker] = []
      for w in 0..<mw_live_workers(g) where mw_live_stats(g, w, &r, &d, &i) == 0 {
        out.append(SummaryAlert.CaptureWorker(worker: Int(w), received: r, dropped: d, ifDropped: i))
      }
      return out
    }
  }

  func close() {
    switch source {
    case .single(let c): mw_capture_close(c)
    case .group(let g): mw_live_close(g)
    }
  }
}

public enum Daemon {
  /// `minewatch run --replay FILE...`: the daemon's pipeline over capture files on packet time,
  /// so a replay gives the alerts the live daemon would have given. Returns the alerts.
  @discardableResult
  public static func replay(
    files: [String], config: DaemonConfig, keepAlerts: Bool = false, metrics: DaemonMetrics? = nil
  ) throws -> [Alert] {
    let signatures = try loadSignatures(config)
    let alerts = try AlertDispatcher(config: config)
    alerts.keepDelivered = keepAlerts
    let dp = try DaemonPipeline(
      config: config, signatures: signatures, alerts: alerts, metrics: metrics,
      log: { FileHandle.standardError.write(Data("minewatch: \($0)\n".utf8)) })
    dp.waitsForVerdicts = true
    let captures = try CaptureFiles(files, engine: dp.pipeline.engine)
    for i in files.indices {
      // Reads pause at each timer's packet time (the engine's deadline), so alerts come when due.
      if let warning = captures.feed(i, engine: dp.pipeline.engine, afterBatch: { _ in dp.afterBatch() }) {
        FileHandle.standardError.write(Data("minewatch: warning: \(warning)\n".utf8))
      }
    }
    dp.finish()
    alerts.drain()
    return alerts.delivered
  }

  static func loadSignatures(_ config: DaemonConfig) throws -> Signatures {
    guard let dir = config.signatures.map({ URL(fileURLWithPath: $0) }) ?? Signatures.defaultDirectory()
    else {
      throw MinewatchError.signatures("no signature directory found: set signatures = DIR")
    }
    return try Signatures(directory: dir)
  }

  /// What `prepare` opened as root, handed to `serve` after privileges are gone.
  public struct Prepared: Sendable {
    let config: DaemonConfig
    let signatures: Signatures
    let capture: LiveCapture
    let metrics: DaemonMetrics?
    let server: MetricsServer?
  }

  /// `minewatch run`, first half, synchronous on the main thread before any other thread
  /// exists: opens the capture (the one step that needs CAP_NET_RAW, and CAP_NET_ADMIN for
  /// promiscuous mode), binds the metrics port, then drops to the configured user, so that every
  /// thread started afterwards, the runtime's included, is born unprivileged.
  public static func prepare(config: DaemonConfig) throws -> Prepared {
    // The signal mask survives exec: a launcher that blocked SIGTERM would make the daemon
    // deaf to it. Unblock what the daemon handles before anything else.
    var unblock = sigset_t()
    sigemptyset(&unblock)
    for s in [SIGTERM, SIGINT, SIGHUP, SIGUSR1] { sigaddset(&unblock, s) }
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    guard let interface = config.interface else {
      throw MinewatchError.usage("no interface: set interface = NAME or pass -i")
    }
    let signatures = try loadSignatures(config)
    let capture = try LiveCapture.open(config, interface: interface)
    let metrics = config.metricsListen != nil ? DaemonMetrics(sensor: config.sensorName) : nil
    let server = try config.metricsListen.map { try MetricsServer(listen: $0, metrics: metrics!) }
    if let user = config.user { try Privileges.drop(to: user) }
    // Fail before READY when the JSON log cannot be written by the user we now are.
    _ = try AlertDispatcher(config: config)
    return Prepared(
      config: config, signatures: signatures, capture: capture, metrics: metrics,
      server: server)
  }

  /// `minewatch run`, second half: capture until SIGTERM or SIGINT.
  public static func serve(_ p: Prepared, logger: Logger) async throws {
    let notifier = Notifier()
    p.server?.start()
    logger.info(
      "capturing",
      metadata: [
        "interface": "\(p.config.interface ?? "")", "filter": "\(p.config.filter ?? "")",
        "user": "\(p.config.user ?? "unchanged")",
      ])
    let service = CaptureService(
      loop: CaptureLoop(
        config: p.config, signatures: p.signatures, capture: p.capture, mailbox: Mailbox(),
        metrics: p.metrics,
        notifier: notifier, logger: logger))
    let group = ServiceGroup(
      configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
    p.server?.shutdown()
    p.capture.close()
  }
}

/// The capture thread as a service: graceful shutdown breaks the loop, which then ends every
/// session, writes the final summary and drains the queue.
struct CaptureService: Service {
  let loop: CaptureLoop

  func run() async throws {
    let loop = self.loop
    let signals = Task {
      for await signal in await UnixSignalsSequence(trapping: .sighup, .sigusr1) {
        loop.mailbox.post(signal == .sighup ? .reload : .hostTable)
        loop.capture.breakLoop()
      }
    }
    defer { signals.cancel() }
    try await withGracefulShutdownHandler {
      try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
        let thread = Thread {
          do {
            try loop.run()
            done.resume()
          } catch {
            done.resume(throwing: error)
          }
        }
        thread.name = "minewatch-capture"
        thread.stackSize = 8 << 20
        thread.start()
      }
    } onGracefulShutdown: {
      loop.mailbox.post(.stop)
      loop.capture.breakLoop()
    }
  }
}

/// The loop on the capture thread: owns the pipeline; nothing else touches it.
struct CaptureLoop: Sendable {
  let config: DaemonConfig
  let signatures: Signatures
  let capture: LiveCapture
  let mailbox: Mailbox
  let metrics: DaemonMetrics?
  let notifier: Notifier?
  let logger: Logger

  func run() throws {
    let alerts = try AlertDispatcher(config: config)
    let dp = try DaemonPipeline(
      config: config, signatures: signatures, alerts: alerts, metrics: metrics,
      log: { [logger] in logger.notice("\($0)") })
    guard mw_engine_set_linktype(dp.pipeline.engine.raw, capture.linkType) == 0 else {
      throw MinewatchError.unreadable("link type \(capture.linkType) of the interface is not supported")
    }
    dp.captureStats = { [capture] in capture.stats() }
    dp.onStatus = { status in notifier?.send("STATUS=" + status) }
    notifier?.send("READY=1\nSTATUS=capturing")
    var err = [CChar](repeating: 0, count: 512)
    loop: while true {
      let n = capture.read(into: dp.pipeline.engine.raw, err: &err)
      if n == -1 {
        logger.error(
          "capture failed",
          metadata: [
            "reason":
              "\(String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))"
          ])
        break
      }
      if n == 0 {
        // An idle link: packet time follows the clock, so timers and idle sessions still end.
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        dp.pipeline.engine.advanceTime(to: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
      }
      dp.afterBatch()
      notifier?.watchdog()
      for command in mailbox.take() {
        switch command {
        case .stop: break loop
        case .hostTable:
          let rows = dp.writeHostTable()
          logger.notice("host table", metadata: ["hosts": "\(rows.count)"])
          for r in rows {
            FileHandle.standardError.write(
              Data(("minewatch: " + r.fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ") + "\n").utf8))
          }
        case .reload:
          do {
            try alerts.reopenJSONLog()
          } catch {
            logger.error(
              "JSON log not reopened, writing on to the old file", metadata: ["reason": "\(error)"])
          }
          do {
            try dp.reload(Daemon.loadSignatures(config))
            logger.notice("signatures reloaded", metadata: ["names": "\(dp.pipeline.names.count)"])
          } catch {
            logger.error("reload refused, the old signatures stay", metadata: ["reason": "\(error)"])
          }
        }
      }
    }
    notifier?.send("STOPPING=1")
    dp.finish()
    // Give syslog a few chances to take what is queued before exiting.
    for _ in 0..<20 where alerts.queued > 0 {
      alerts.drain()
      if alerts.queued > 0 { usleep(100_000) }
    }
    if alerts.queued > 0 {
      logger.error("syslog unreachable at exit", metadata: ["alerts_not_delivered": "\(alerts.queued)"])
    }
  }
}
