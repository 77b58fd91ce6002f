import ArgumentParser
import Foundation
import Logging
import MinewatchDaemon
import MinewatchKit

/// `minewatch run`: the daemon. Every option is also a config-file key (systemd/minewatch.conf);
/// the command line wins.
struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Watch a live interface and send alerts to syslog (the systemd service).",
    discussion: "Started as root with --user, it drops to that user once the capture is open.")

  @Option(name: [.short, .long], help: "Interface to capture on ('any' for all).") var interface: String?
  @Option(name: .long, help: "Config file (key = value lines).") var config: String?
  @Option(help: "BPF capture filter.") var filter: String?
  @Option(help: "Bytes kept of each packet.") var snaplen: Int?
  @Option(name: .customLong("buffer-mib"), help: "Kernel capture buffer, MiB.") var bufferMiB: Int?
  @Option(help: "Capture threads in one PACKET_FANOUT group (1-64; 1: no fanout).") var workers: Int?
  @Flag(name: .customLong("no-promiscuous"), help: "Do not put the interface in promiscuous mode.")
  var noPromiscuous = false
  @Flag(help: "Deliver packets at once instead of in batches.") var immediate = false
  @Option(help: "Signature directory.") var signatures: String?
  @Option(name: .customLong("summary-interval"), help: "Seconds (or 5m, 1h) between summaries.")
  var summaryInterval: String?
  @Option(help: "local, none, unix:PATH, udp://ADDR:PORT or tcp://ADDR:PORT.") var syslog: String?
  @Option(name: .customLong("syslog-format"), help: "rfc5424 or rfc3164.") var syslogFormat: String?
  @Option(name: .customLong("syslog-facility"), help: "daemon, local0 … local7, ….") var syslogFacility:
    String?
  @Option(name: .customLong("syslog-ident"), help: "The syslog APP-NAME / tag.") var syslogIdent: String?
  @Option(name: .customLong("json-log"), help: "Also write alerts as JSON lines to this file.") var jsonLog:
    String?
  @Option(name: .customLong("metrics-listen"), help: "Serve Prometheus metrics on ADDR:PORT.")
  var metricsListen: String?
  @Option(help: "Drop to this user once the capture is open.") var user: String?
  @Option(help: "This sensor's name in every alert and metric (default: the host name).") var sensor: String?
  @Option(help: "Asset map (CSV: cidr,unit,contact,class); alerts carry each host's unit.") var assets:
    String?
  @Option(name: .customLong("evidence-dir"), help: "Write each finding's packets and evidence.log here.")
  var evidenceDir: String?
  @Option(help: "Run the daemon's pipeline over capture files on packet time instead of an interface.")
  var replay: [String] = []

  func run() throws {
    var c = DaemonConfig()
    do {
      if let path = config { c = try DaemonConfig.load(path: path) }
      let cli: [(String, String?)] = [
        ("interface", interface), ("filter", filter), ("snaplen", snaplen.map(String.init)),
        ("buffer_mib", bufferMiB.map(String.init)),
        ("workers", workers.map(String.init)), ("promiscuous", noPromiscuous ? "no" : nil),
        ("immediate", immediate ? "yes" : nil), ("signatures", signatures),
        ("summary_interval", summaryInterval),
        ("syslog", syslog), ("syslog_format", syslogFormat), ("syslog_facility", syslogFacility),
        ("syslog_ident", syslogIdent), ("json_log", jsonLog), ("metrics_listen", metricsListen),
        ("user", user), ("assets", assets), ("evidence_dir", evidenceDir), ("sensor", sensor),
      ]
      for (key, value) in cli { if let value { try c.set(key, value) } }
      if !replay.isEmpty {
        try Daemon.replay(files: replay, config: c)
        return
      }
      // Open the capture and drop privileges while this is the only thread; then the service.
      let prepared = try Daemon.prepare(config: c)
      var logger = Logger(label: "minewatch")
      logger.logLevel = .info
      let outcome = ServeOutcome()
      let done = DispatchSemaphore(value: 0)
      Task { [logger] in
        do {
          try await Daemon.serve(prepared, logger: logger)
        } catch {
          outcome.set("\(error)")
        }
        done.signal()
      }
      done.wait()
      if let failure = outcome.failure { fail(failure) }
    } catch let e as MinewatchError {
      fail(e.description)
    } catch let e as MinewatchDaemonError {
      fail(e.description)
    }
  }
}

/// The service's failure, handed from its task to the waiting main thread.
final class ServeOutcome: @unchecked Sendable {
  private let lock = NSLock()
  private var message: String?
  func set(_ m: String) {
    lock.lock()
    message = m
    lock.unlock()
  }
  var failure: String? {
    lock.lock()
    defer { lock.unlock() }
    return message
  }
}
