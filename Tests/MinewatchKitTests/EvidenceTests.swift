import CPcap
import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// Evidence files: they re-open with libpcap, match the SHA-256 that sha256sum computes, hold
/// the miner's own lines, chain into a log that shows edits and removals, and stay in bounds.
@Suite struct EvidenceTests {
  func directory() -> String { Paths.scratch(UUID().uuidString + "-evidence") }

  func scanInto(_ dir: String, _ files: [String], tune: (inout EvidenceSettings) -> Void = { _ in }) throws
    -> (ScanReport, Pipeline)
  {
    var settings = EvidenceSettings(directory: dir)
    tune(&settings)
    let scanner = try Scanner(signatures: loadSignatures())
    try scanner.pipeline.recordEvidence(settings)
    return (try scanner.scan(files: files), scanner.pipeline)
  }

  /// Packets and link type as libpcap reads them.
  func readWithLibpcap(_ path: String) throws -> (packets: Int, linkType: Int32) {
    var err = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
    let p = try #require(
      pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &err))
    defer { pcap_close(p) }
    var n = 0
    var header: UnsafeMutablePointer<pcap_pkthdr>?
    var data: UnsafePointer<UInt8>?
    while pcap_next_ex(p, &header, &data) == 1 { n += 1 }
    return (n, pcap_datalink(p))
  }

  /// sha256sum's digest: an implementation other than the one under test.
  func sha256sum(_ path: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    p.arguments = [path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    p.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return String(text.prefix(64))
  }

  @Test func realMiningSessionsLeaveFilesThatReopenAndMatch() throws {
    let dir = directory()
    let captures = ["btc_sha256d_cpuminer_eth.pcap", "xmr_rx0_plain_eth.pcap"].map {
      Paths.capture("miners/" + $0)
    }
    let (r, _) = try scanInto(dir, captures)
    let records = r.allSessions.compactMap(\.evidenceFile)
    #expect(records.count == 2)
    for e in records {
      let path = dir + "/" + e.file
      let read = try readWithLibpcap(path)
      #expect(read.packets == e.packets)
      #expect(read.linkType == 1)  // Ethernet, as the captures
      #expect(try sha256sum(path) == e.sha256)
      #expect(e.packets == 64 + 32)  // the first 64 packets and 32 later share packets
    }
    // Each file is evidence on its own: scanning it finds the same miner again.
    let btc = try #require(r.host("10.31.7.23")?.sessions.first?.evidenceFile)
    #expect(btc.file.hasPrefix("10.31.7.23_20"))
    let again = try scan([dir + "/" + btc.file])
    let s = try #require(again.host("10.31.7.23")?.sessions.first)
    #expect(s.login == "mwlab.rig01" && s.agent == "cpuminer/2.5.1")
    #expect(s.sharesSubmitted >= 32)
    let v = try EvidenceLog.verify(directory: dir)
    #expect(v.records == 2 && v.problems.isEmpty)
  }

  @Test func theChainContinuesAcrossRunsAndShowsTampering() throws {
    let dir = directory()
    let btc = Paths.capture("miners/btc_sha256d_cpuminer_eth.pcap")
    let ltc = Paths.capture("miners/ltc_scrypt_cpuminer_eth.pcap")
    _ = try scanInto(dir, [btc])
    _ = try scanInto(dir, [ltc])  // a restart: the new record links to the old one
    let logPath = dir + "/" + EvidenceLog.fileName
    let log = try String(contentsOfFile: logPath, encoding: .utf8)
    let (records, problems) = EvidenceLog.verifyChain(log)
    #expect(records.map(\.seq) == [1, 2] && problems.isEmpty)
    #expect(records[0].prev == EvidenceLog.genesis && records[1].prev == records[0].chain)

    // A changed byte in an evidence file.
    let victim = dir + "/" + records[1].file
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: victim)))
    bytes[bytes.count - 1] ^= 0xff
    try Data(bytes).write(to: URL(fileURLWithPath: victim))
    #expect(
      try EvidenceLog.verify(directory: dir).problems == [
        "seq 2: \(records[1].file) does not match its SHA-256 (modified)"
      ])

    // The first line removed: the next no longer follows.
    let lines = log.split(separator: "\n")
    #expect(
      EvidenceLog.verifyChain(lines.dropFirst().joined(separator: "\n")).problems == [
        "line 1: does not follow the line before (a line removed or moved)"
      ])
    // A field edited (the host), chain left as it was.
    let edited = log.replacingOccurrences(of: "\"host\":\"10.31.7.23\"", with: "\"host\":\"10.31.7.99\"")
    #expect(edited != log)
    #expect(
      EvidenceLog.verifyChain(edited).problems == ["line 1: chain value does not match its fields (edited)"])
  }

  @Test func packetsAndLinesPerFindingAreBounded() throws {
    let dir = directory()
    let (r, _) = try scanInto(dir, [Paths.capture("miners/ltc_scrypt_cpuminer_eth.pcap")]) {
      $0.packets = 8
      $0.lines = 4
    }
    let e = try #require(r.allSessions.first?.evidenceFile)
    #expect(e.packets == 12)
    #expect(try readWithLibpcap(dir + "/" + e.file).packets == 12)
    // The first packets hold the subscribe and authorize lines: the login is in the file.
    let again = try scan([dir + "/" + e.file])
    #expect(again.allSessions.first?.login == r.allSessions.first?.login)
  }

  @Test func diskUseStaysUnderItsLimit() throws {
    let dir = directory()
    // Four recorded miners, one finding each.
    let captures = [
      "btc_sha256d_cpuminer_eth.pcap", "ltc_scrypt_cpuminer_eth.pcap", "xmr_rx0_plain_eth.pcap",
      "xmr_rx0_tls_sni_eth.pcap",
    ].map { Paths.capture("miners/" + $0) }
    // Room for a full-sized file and a half: a file starts only while a full-sized one still fits,
    // so the findings that come once the directory is nearly full are counted, not written.
    func run() throws -> (written: Int, refused: UInt64) {
      let (r, _) = try scanInto(dir, captures) {
        $0.maxFileBytes = 64 << 10
        $0.maxTotalBytes = 96 << 10
      }
      return (r.allSessions.compactMap(\.evidenceFile).count, r.anomalies["evidence_disk_limit"] ?? 0)
    }
    let first = try run()
    #expect(first.written >= 1 && first.refused >= 1 && first.written + Int(first.refused) == 4)
    // A restart counts what the directory already holds.
    let second = try run()
    #expect(second.written == 0 && second.refused == 4)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".pcap") }
    let total = try files.reduce(0) {
      $0 + (try FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as! Int)
    }
    #expect(files.count == first.written && total <= 96 << 10)
  }

  @Test func aFileCannotGrowPastItsSize() throws {
    let dir = directory()
    let (r, _) = try scanInto(dir, [Paths.capture("miners/btc_sha256d_cpuminer_eth.pcap")]) {
      $0.maxFileBytes = 4096
    }
    let e = try #require(r.allSessions.first?.evidenceFile)
    #expect(e.bytes <= 4096 && e.packets > 0)
    #expect(try readWithLibpcap(dir + "/" + e.file).packets == e.packets)
  }

  @Test func anUnwritableDirectoryIsAOneLineError() throws {
    let file = try scratchFile("not-a-dir", "x")
    #expect(throws: MinewatchError.self) { try scanInto(file, []) }
    do {
      _ = try scanInto(file, [])
    } catch let e as MinewatchError {
      #expect(e.description == "\(file): not a directory")
    }
  }
}
