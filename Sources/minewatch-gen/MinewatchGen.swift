import ArgumentParser
import CaptureForge

/// Writes the project's synthetic captures: the bundled sample and the benchmark capture.
@main
struct MinewatchGen: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "minewatch-gen", abstract: "Write synthetic capture files.",
    subcommands: [Sample.self, Bench.self, Hostile.self, Wrap.self])

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

  struct Wrap: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "A capture's Ethernet frames wrapped the way a gateway delivers them (tests, benchmark).")
    @Argument(
      help:
        "vxlan, geneve, erspan2, erspan3, gre-ethernet, gre-ip, mpls, mpls-pseudowire, qinq-mpls, pppoe, gtpu, ipip, ppp, ppp-hdlc or cisco-hdlc."
    ) var kind: String
    @Argument var input: String
    @Argument var output: String
    func run() throws {
      let kinds: [String: Encapsulation] = [
        "vxlan": .vxlan(vni: 5001), "geneve": .geneve(vni: 77), "erspan2": .erspan2(session: 12),
        "erspan3": .erspan3(session: 300), "gre-ethernet": .greEthernet(key: 42), "gre-ip": .greIP,
        "mpls": .mpls(labels: [1000, 2000]), "mpls-pseudowire": .mplsPseudowire(label: 3000),
        "qinq-mpls": .qinqMPLS(labels: [17]), "pppoe": .pppoe(session: 0x1234), "gtpu": .gtpu(teid: 0xC0FFEE),
        "ipip": .ipInIP, "ppp": .ppp, "ppp-hdlc": .pppHDLC, "cisco-hdlc": .ciscoHDLC,
      ]
      guard let k = kinds[kind] else { throw ValidationError("unknown kind '\(kind)'") }
      let w = try PcapWriter(path: output, link: k.link)
      var n: UInt32 = 0
      try forEachPcapRecord(input) { ts, frame in
        if let f = k.wrap(frame, sequence: n) { w.write(frame: f, timeNs: ts) }
        n &+= 1
      }
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
