import ArgumentParser
import CaptureForge

/// Writes the project's synthetic captures: the bundled sample and the benchmark capture.
@main
struct MinewatchGen: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "minewatch-gen", abstract: "Write synthetic capture files.",
    subcommands: [Sample.self, Bench.self, Hostile.self])

  struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The small sample capture bundled in the repository.")
    @Argument var output: String
    func run() throws {
      let w = try PcapWriter(path: output, link: .ethernet(vlans: []))
      Scenarios.writeSample(to: w)
      w.close()
    }
  }

  struct Hostile: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "A capture aimed at one of the detector's tables.")
    @Argument(help: "synflood, stratum, endless, deepjson or dnsflood.") var kind: String
    @Argument var output: String
    func run() throws {
      guard let k = HostileTraffic(rawValue: kind) else { throw ValidationError("unknown kind '\(kind)'") }
      let w = try PcapWriter(path: output, link: .ethernet(vlans: []))
      k.write(to: w)
      w.close()
      print("\(output): \(w.packets) packets, \(w.bytesWritten >> 20) MiB")
    }
  }

  struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A large mixed capture for the benchmark.")
    @Argument var output: String
    @Option var megabytes = 400
    @Option var hosts = 4000
    @Option var miners = 40
    func run() throws {
      var traffic = BenchTraffic()
      traffic.megabytes = megabytes
      traffic.hosts = hosts
      traffic.miners = miners
      let w = try PcapWriter(path: output, link: .ethernet(vlans: []))
      traffic.write(to: w)
      w.close()
      print("\(output): \(w.packets) packets, \(w.bytesWritten >> 20) MiB")
    }
  }
}
