import CaptureForge
import Foundation
import MinewatchKit
import Testing

/// Paths of the repository, its fixture captures, and scratch files.
enum Paths {
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let signatures = repo.appendingPathComponent("signatures")
  static let captures = repo.appendingPathComponent("Tests/Fixtures/captures")

  static func capture(_ name: String) -> String { captures.appendingPathComponent(name).path }

  static func scratch(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("minewatch-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
  }
}

func loadSignatures() throws -> Signatures { try Signatures(directory: Paths.signatures) }

func scan(_ files: [String]) throws -> ScanReport {
  try Scanner(signatures: loadSignatures()).scan(files: files)
}

/// Writes a forged capture to a scratch file and scans it.
func scanForged(
  _ name: String, link: LinkLayer = .ethernet(vlans: []), nanosecond: Bool = false,
  _ build: (PcapWriter) -> Void
) throws -> ScanReport {
  let path = Paths.scratch(UUID().uuidString + "-" + name)  // tests run in parallel
  let w = try PcapWriter(path: path, link: link, nanosecond: nanosecond)
  w.sortByTime = true
  build(w)
  w.close()
  return try scan([path])
}

/// Writes a forged capture and scans it with site settings (asset map, kind rules, evidence).
func scanForged(
  _ name: String, site: SiteSettings, _ build: (PcapWriter) -> Void
) throws -> (ScanReport, Pipeline) {
  let path = Paths.scratch(UUID().uuidString + "-" + name)
  let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
  w.sortByTime = true
  build(w)
  w.close()
  var limits = EngineLimits()
  site.apply(to: &limits)
  let scanner = try Scanner(signatures: loadSignatures(), limits: limits)
  try site.apply(to: scanner.pipeline)
  return (try scanner.scan(files: [path]), scanner.pipeline)
}

/// Writes lines to a scratch file and returns its path.
func scratchFile(_ name: String, _ text: String) throws -> String {
  let path = Paths.scratch(UUID().uuidString + "-" + name)
  try text.write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

extension ScanReport {
  func host(_ ip: String) -> ScanReport.Host? { hosts.first { "\($0.ip)" == ip } }
  var allSessions: [Session] { hosts.flatMap(\.sessions) }
}

/// |a − b| ≤ tolerance × b
func within(_ a: Double?, _ b: Double, _ tolerance: Double) -> Bool {
  guard let a else { return false }
  return abs(a - b) <= tolerance * b
}

/// A resolver's answer to `host`, written into a forged capture.
func writeDNSAnswer(
  _ w: PcapWriter, to host: String, name: String, cnames: [String] = [], address: [UInt8], ttl: UInt32,
  at ns: UInt64
) {
  w.write(
    frame: PacketBuilder.udp(
      link: w.link, from: Peer("10.31.0.53", 53), to: Peer(host, 53000),
      payload: DNSMessage.answer(id: 1, name: name, cnames: cnames, addresses: [address], ttl: ttl)),
    timeNs: ns)
}

/// `count` TLS connections that only say hello (to www.example.org), one every `spacingNs`, from
/// distinct clients of 10.`subnet`.0.0/16: the crowd of new TLS flows a gateway sees.
func writeTLSHellos(
  _ w: PcapWriter, count: Int, subnet: Int, server: String, from startNs: UInt64, spacingNs: UInt64
) {
  for i in 0..<count {
    let c = Conversation(
      writer: w, client: Peer("10.\(subnet).\(i / 250).\(i % 250 + 1)", 50000), server: Peer(server, 443),
      startNs: startNs + UInt64(i) * spacingNs)
    c.send(fromClient: true, TLSClientHello.record(serverName: "www.example.org"))
  }
}

/// A suspect's traffic to a local pool at 127.0.0.1:`port`: an encrypted miner (`miner`, found
/// by its rhythm) from the start, and twenty seconds of another host's (`other`) encrypted
/// traffic to the same endpoint `otherAfter` seconds later, too little for any rhythm. Returns
/// the writer, still open, for more flows.
func writeSuspectOfLocalPool(
  _ path: String, port: UInt16, miner: String, other: String, otherAfter: Double, seed: UInt64
) throws -> PcapWriter {
  let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
  w.sortByTime = true
  let t0: UInt64 = 1_763_900_000 * 1_000_000_000
  TLSRhythm.flow(
    w, client: Peer(miner, 50000), server: Peer("127.0.0.1", port), startNs: t0,
    TLSRhythm.minerRecords(seed: seed, submits: 60, mean: 6, submit: 244, answer: 85, push: 430))
  TLSRhythm.flow(
    w, client: Peer(other, 50001), server: Peer("127.0.0.1", port), startNs: t0 + UInt64(otherAfter * 1e9),
    [(2, true, 244), (2.02, false, 85), (9, false, 430), (15, true, 244), (15.02, false, 85)])
  return w
}
