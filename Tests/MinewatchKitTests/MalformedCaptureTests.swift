import CaptureForge
import Foundation
import Testing

/// Capture files made wrong on purpose: each gets one clear line (exit 2) or a partial report
/// with a warning (exit 0); never a crash, never a hang.
@Suite struct MalformedCaptureTests {
  let cli = CLITests()

  /// A valid capture with one mining session, to break in different ways.
  func validCapture() throws -> [UInt8] {
    let w = PcapWriter(link: .ethernet(vlans: []))
    let c = Conversation(
      writer: w, client: Peer("10.1.1.1", 40000), server: Peer("198.51.100.7", 3333),
      startNs: 1_700_000_000_000_000_000)
    Scenarios.stratum(c, login: "a.b", difficulty: 1, shares: 5, interval: 1)
    return [UInt8](w.data)
  }

  func le32(_ v: UInt32) -> [UInt8] {
    [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)]
  }

  func run(_ name: String, _ bytes: [UInt8]) throws -> CLITests.Result {
    let path = Paths.scratch(UUID().uuidString + "-" + name)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let r = try cli.run(["scan", "--format", "json", path])
    #expect(r.status == 0 || r.status == 2, "\(name): exit \(r.status)")  // not a signal
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count <= 1, "\(name): \(r.stderr)")
    if r.status == 2 { #expect(lines.first?.hasPrefix("minewatch: \(path): ") == true, "\(name)") }
    return r
  }

  @Test func unreadableFilesGetOneLine() throws {
    let valid = try validCapture()
    var wrongMagic = valid
    wrongMagic[0] = 0x00
    #expect(try run("magic", wrongMagic).status == 2)
    #expect(try run("short-header", Array(valid.prefix(10))).status == 2)
    #expect(try run("empty", []).status == 2)
    var badNG: [UInt8] = [0x0a, 0x0d, 0x0d, 0x0a] + le32(12) + [0x4d, 0x3c, 0x2b, 0x1a] + [1, 0, 0, 0]
    // Section length, then a trailing block length too small for the block.
    badNG += [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] + le32(8)
    #expect(try run("pcapng-bad-length", badNG).status == 2)
    var huge = valid
    huge[20] = 0xfe  // LINKTYPE 254 (not a link type minewatch decodes)
    let r = try run("linktype", huge)
    #expect(r.status == 2 && r.stderr.contains("link type"))
  }

  @Test func damagedRecordsGiveWhatWasReadAndAWarning() throws {
    let valid = try validCapture()
    // A record cut short at the end of the file.
    let cut = try run("cut", Array(valid.dropLast(5)))
    #expect(cut.status == 0 && cut.stderr.contains("warning:") && cut.stderr.contains("truncated"))
    #expect(cut.stdout.contains("\"10.1.1.1\""))
    // Garbage after the last record.
    let tail = try run("garbage", valid + Array("this is not a pcap record header at all".utf8))
    #expect(tail.status == 0 && tail.stderr.contains("warning:"))
    #expect(tail.stdout.contains("\"10.1.1.1\""))
    // A record claiming more bytes than the snaplen allows.
    var big = valid
    big += le32(1_700_000_100) + le32(0) + le32(300_000) + le32(300_000) + [UInt8](repeating: 0, count: 64)
    let b = try run("caplen", big)
    #expect(b.status == 0 && b.stderr.contains("warning:"))
  }

  @Test func zeroLengthAndJumboRecordsAreRead() throws {
    var bytes = try validCapture()
    bytes += le32(1_700_000_200) + le32(0) + le32(0) + le32(60)  // nothing captured of a 60-byte frame
    let jumbo = PacketBuilder.tcp(
      link: .ethernet(vlans: []), from: Peer("10.1.1.9", 1), to: Peer("10.1.1.8", 2), seq: 1, ack: 1,
      flags: 0x18,
      payload: [UInt8](repeating: 0x41, count: 9000))
    bytes += le32(1_700_000_201) + le32(0) + le32(UInt32(jumbo.count)) + le32(UInt32(jumbo.count)) + jumbo
    let r = try run("zero-jumbo", bytes)
    #expect(r.status == 0 && r.stderr.isEmpty)
    let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    let capture = doc?["capture"] as? [String: Any]
    let anomalies = doc?["anomalies"] as? [String: Any]
    #expect((capture?["packets"] as? Int ?? 0) > 20)
    #expect(anomalies?["truncated_packet"] as? Int == 1)
  }
}
