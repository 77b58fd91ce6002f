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

/// The libpcap handle, shared only for pcap_breakloop, which libpcap documents as safe from
/// another thread; every other use stays on the capture thread.
struct CaptureHandle: @unchecked Sendable {
  let raw: OpaquePointer
  func breakLoop() { mw_capture_break(raw) }
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
    let handle: CaptureHandle
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
    var err = [CChar](repeating: 0, count: 512)
    guard
      let capture = mw_capture_open_live(
        interface, Int32(config.snaplen), Int32(config.bufferMiB << 20), config.promiscuous ? 1 : 0,
        config.immediate ? 1 : 0, 250, config.filter, &err, err.count)
    else {
      throw MinewatchError.unreadable(
        String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    let metrics = config.metricsListen != nil ? DaemonMetrics(sensor: config.sensorName) : nil
    let server = try config.metricsListen.map { try MetricsServer(listen: $0, metrics: metrics!) }
    if let user = config.user { try Privileges.drop(to: user) }
    // Fail before READY when the JSON log cannot be written by the user we now are.
    _ = try AlertDispatcher(config: config)
    return Prepared(
      config: config, signatures: signatures, handle: CaptureHandle(raw: capture), metrics: metrics,
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
        config: p.config, signatures: p.signatures, handle: p.handle, mailbox: Mailbox(), metrics: p.metrics,
        notifier: notifier, logger: logger))
    let group = ServiceGroup(
      configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
    p.server?.shutdown()
    mw_capture_close(p.handle.raw)
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
        loop.handle.breakLoop()
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
      loop.handle.breakLoop()
    }
  }
}

/// The loop on the capture thread: owns the pipeline; nothing else touches it.
struct CaptureLoop: Sendable {
  let config: DaemonConfig
  let signatures: Signatures
  let handle: CaptureHandle
  let mailbox: Mailbox
  let metrics: DaemonMetrics?
  let notifier: Notifier?
  let logger: Logger

  func run() throws {
    let alerts = try AlertDispatcher(config: config)
    let dp = try DaemonPipeline(
      config: config, signatures: signatures, alerts: alerts, metrics: metrics,
      log: { [logger] in logger.notice("\($0)") })
    guard mw_engine_set_linktype(dp.pipeline.engine.raw, mw_capture_linktype(handle.raw)) == 0 else {
      throw MinewatchError.unreadable(
        "link type \(mw_capture_linktype(handle.raw)) of the interface is not supported")
    }
    dp.captureStats = {
      var r: UInt64 = 0
      var d: UInt64 = 0
      var i: UInt64 = 0
      return mw_capture_stats(handle.raw, &r, &d, &i) == 0 ? (r, d, i) : nil
    }
    dp.onStatus = { status in notifier?.send("STATUS=" + status) }
    notifier?.send("READY=1\nSTATUS=capturing")
    var err = [CChar](repeating: 0, count: 512)
    loop: while true {
      let n = mw_capture_live_dispatch(handle.raw, dp.pipeline.engine.raw, 4096, &err, err.count)
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
