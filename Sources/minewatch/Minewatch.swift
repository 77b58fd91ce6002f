import ArgumentParser
import Foundation
import MinewatchDaemon
import MinewatchKit

@main
struct Minewatch: ParsableCommand {
  /// The release; `make deb` names the package after it.
  static let release = "0.9.0"

  /// "0.9.0, signatures 2026-12-02 (/usr/share/minewatch/signatures)": the binary and the
  /// signature set it would load.
  static var versionText: String {
    guard let dir = defaultSignatures else { return "\(release), no signature set found" }
    return "\(release), signatures \(Signatures.setDate(in: dir) ?? "of unknown date") (\(dir.path))"
  }

  /// The signature set a command loads unless told, looked for once a run: the version text
  /// names it on every invocation, and each look resolves paths on the file system.
  static let defaultSignatures = Signatures.defaultDirectory()

  static let configuration = CommandConfiguration(
    commandName: "minewatch",
    abstract: "Passive detector of cryptocurrency mining in network traffic.",
    version: versionText,
    subcommands: [
      Scan.self, Run.self, Report.self, VerifyCommand.self, EvidenceCommand.self, SignaturesCommand.self,
    ])

  /// Usage errors exit with 2, as the README promises, not ArgumentParser's 64.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      let code = exitCode(for: error)
      if code == .success || code.rawValue == 1 { exit(withError: error) }
      FileHandle.standardError.write(Data("minewatch: \(fullMessage(for: error))\n".utf8))
      Foundation.exit(2)
    }
  }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case table, json
}

/// Exit codes: 0 scanned, 1 mining found (with --exit-code), 2 usage or unreadable input.
struct Scan: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scan", abstract: "Find every mining session in capture files (pcap or pcapng; - for stdin)."
  )

  @Argument(help: "Capture files; - reads standard input.")
  var files: [String]

  @Option(help: "Output format: table or json.")
  var format: OutputFormat = .table

  @Flag(help: "Exit with status 1 when mining was found.")
  var exitCode = false

  @Option(help: "Directory holding pools.txt and algorithms.txt.")
  var signatures: String?

  @Flag(help: "Never show progress, even on a terminal.")
  var quiet = false

  @Option(
    name: .customLong("coal-kg-per-kwh"),
    help: "Standard coal per kWh for the energy figures (default 0.404).")
  var coalKgPerKWh: Double?

  @Option(name: .customLong("co2-kg-per-kwh"), help: "CO2 per kWh for the energy figures (default 1.0).")
  var co2KgPerKWh: Double?

  @Option(
    help: "Asset map (CSV: cidr,unit,contact,class): hosts carry their unit, the report groups by unit.")
  var assets: String?

  @Option(
    help:
      "Site settings from a config file (assets, energy factors, kind rules, evidence, internal networks).")
  var config: String?

  @Option(help: "Write each finding's packets and a hash-chained evidence.log into this directory.")
  var evidence: String?

  @Option(
    help: "The sensor or machine named in the report (default: the config's sensor, else the host name).")
  var sensor: String?

  @Option(
    help: ArgumentHelp(
      "How files are read: mapped (classic pcap in place, the default) or libpcap.", visibility: .hidden))
  var reader: CaptureReader = .mapped

  @Option(
    help: ArgumentHelp(
      "Threads: 1 does everything on one; 2 walks and decodes the file on a second; 3 or more add engines that share the flows (default: one per core, at most 16).",
      discussion:
        "pcapng, stdin and pipes get a reader thread from 2 on too; with --evidence at most two are used; the report is the same either way."
    ))
  var threads: Int = Scanner.defaultThreads

  @Option(help: "Verdict file of `minewatch verify` or the daemon: flows to verified pools are findings.")
  var verdicts: String?

  @Flag(
    name: .customLong("no-names"),
    help: "Ignore every pool name and address: find mining only by protocol and by encrypted rhythm.")
  var noNames = false

  func run() throws {
    let sigs: Signatures
    do {
      guard let dir = signatures.map({ URL(fileURLWithPath: $0) }) ?? Minewatch.defaultSignatures
      else {
        throw MinewatchError.signatures(
          "no signature directory found: pass --signatures DIR or set MINEWATCH_SIGNATURES")
      }
      let loaded = try Signatures(directory: dir)
      sigs = noNames ? loaded.withoutNames() : loaded
    } catch let e as MinewatchError {
      fail(e.description)
    }
    var report: ScanReport
    do {
      var site = SiteSettings()
      var internalNetworks = CIDR.privateRanges
      var named = DaemonConfig()
      if let config {
        named = try DaemonConfig.load(path: config)
        site = named.site
        internalNetworks = named.internalNetworks
      }
      if let sensor { try named.set("sensor", sensor) }
      if let assets { site.assets = assets }
      if let evidence { site.evidence.directory = evidence }
      if let coalKgPerKWh { site.factors.coalKgPerKWh = coalKgPerKWh }
      if let co2KgPerKWh { site.factors.co2KgPerKWh = co2KgPerKWh }
      var limits = EngineLimits()
      site.apply(to: &limits)
      let scanner = try Scanner(signatures: sigs, limits: limits)
      scanner.pipeline.internalNetworks = internalNetworks
      try site.apply(to: scanner.pipeline)
      if let verdicts {
        for v in try VerdictStore(path: verdicts).all() { scanner.pipeline.addVerified(v) }
      }
      let display = !quiet && isatty(STDERR_FILENO) != 0 ? ProgressLine() : nil
      guard (1...256).contains(threads) else {
        throw MinewatchError.usage("--threads: \(threads) is not 1 to 256")
      }
      report = try scanner.scan(
        files: files, reader: reader, threads: threads, progress: display.map { d in { d.show($0) } })
      report.factors = site.factors
      report.sensor = named.sensorName
      display?.clear()
      for w in scanner.pipeline.evidence?.warnings ?? [] {
        FileHandle.standardError.write(Data("minewatch: warning: \(w)\n".utf8))
      }
    } catch let e as MinewatchError {
      fail(e.description)
    }
    switch format {
    case .table: FileHandle.standardOutput.write(Data(report.table().utf8))
    case .json:
      report.writeJSON { FileHandle.standardOutput.write($0) }
      FileHandle.standardOutput.write(Data("\n".utf8))
    }
    for w in report.capture.warnings {
      FileHandle.standardError.write(Data("minewatch: warning: \(w)\n".utf8))
    }
    if exitCode && report.foundMining { throw ExitCode(1) }
  }
}

/// One self-overwriting status line on stderr, at most a few times a second.
final class ProgressLine {
  private var last = 0.0

  func show(_ p: ScanProgress) {
    guard p.elapsed - last >= 0.25 else { return }
    last = p.elapsed
    let rate = p.elapsed > 0 ? Double(p.packets) / p.elapsed : 0
    var text = "\(p.file): "
    if let size = p.size, size > 0, p.offset >= 0 {
      text += String(format: "%.0f%% ", Double(p.offset) * 100 / Double(size))
      text += "(\(p.offset >> 20) of \(size >> 20) MiB)"
    } else if p.offset >= 0 {
      text += "\(p.offset >> 20) MiB"
    }
    text += String(format: "  %.2f M packets/s", rate / 1e6)
    FileHandle.standardError.write(Data("\r\u{1b}[K\(text)".utf8))
  }

  func clear() { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
}

extension CaptureReader: ExpressibleByArgument {}
