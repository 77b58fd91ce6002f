import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// The mapped reader (classic pcap walked in place) and libpcap's read loop hand the engine the
/// same packets: identical reports on every capture in the tests, and the same warning for
/// each kind of damaged file.
@Suite struct ReaderAgreementTests {
  /// The report as JSON with the file's name taken out, or the error that refused the file.
  func report(_ file: String, _ reader: CaptureReader, threads: Int = 1) throws -> String {
    try report([file], reader, threads: threads)
  }

  func report(_ files: [String], _ reader: CaptureReader, threads: Int = 1) throws -> String {
    do {
      let r = try Scanner(signatures: loadSignatures()).scan(files: files, reader: reader, threads: threads)
      var out = Data()
      r.writeJSON { out.append($0) }
      return files.reduce(String(decoding: out, as: UTF8.self)) {
        $0.replacingOccurrences(of: $1, with: "FILE")
      }
    } catch let e as MinewatchError {
      return "error: \(e)"
    }
  }

  static var allCaptures: [String] {
    let fm = FileManager.default
    var files = [Paths.repo.appendingPathComponent("Tests/Fixtures/sample.pcap").path]
    for dir in ["miners", "public", "decoys", "ordinary"] {
      let d = Paths.captures.appendingPathComponent(dir)
      let names = (try? fm.contentsOfDirectory(atPath: d.path)) ?? []
      files += names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map {
        d.appendingPathComponent($0).path
      }
    }
    return files
  }

  @Test func everyCaptureGivesTheSameReport() throws {
    let files = Self.allCaptures
    #expect(files.count > 270)
    var differ: [String] = []
    var threadsDiffer: [String] = []
    for f in files {
      let mapped = try report(f, .mapped)
      if try mapped != report(f, .libpcap) { differ.append(f) }
      // Walked and decoded on a second thread: the engine must see exactly the same. On four,
      // three engines share the flows out (ShardedScan): the report must not move either.
      if try mapped != report(f, .mapped, threads: 2) { threadsDiffer.append(f) }
      if try mapped != report(f, .mapped, threads: 4) { threadsDiffer.append(f + " (4)") }
    }
    #expect(differ.isEmpty, "\(differ)")
    #expect(threadsDiffer.isEmpty, "\(threadsDiffer)")
  }

  /// Several files in one scan (flows and timers running across them), each walked by a reader
  /// thread of its own in turn, on one engine or shared by three or seven: one report.
  @Test func severalFilesOnTwoThreadsAgree() throws {
    let files = [
      "miners/btc_sha256d_cpuminer_eth.pcap", "ordinary/vxlan.pcap", "miners/xmr_rx0_tls_sni_eth.pcap",
      "public/ndpi_mining.pcapng", "miners/xmr_rx0_reconnect_seedchange_eth.pcap",
    ].map(Paths.capture)
    let one = try report(files, .mapped)
    #expect(one.contains("\"hosts\":[{"))
    #expect(try report(files, .mapped, threads: 2) == one)
    #expect(try report(files, .mapped, threads: 4) == one)
    #expect(try report(files, .mapped, threads: 8) == one)
  }

  /// The same file in the other byte order and with nanosecond timestamps: one report.
  @Test func byteOrderAndPrecisionAgree() throws {
    let original = Paths.capture("miners/xmr_rx0_tls_sni_eth.pcap")
    let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: original)))
    let swapped = Paths.scratch(UUID().uuidString + "-swapped.pcap")
    try Data(Self.rewrite(data, swap: true, nanos: false)).write(to: URL(fileURLWithPath: swapped))
    let nanos = Paths.scratch(UUID().uuidString + "-nanos.pcap")
    try Data(Self.rewrite(data, swap: false, nanos: true)).write(to: URL(fileURLWithPath: nanos))
    let base = try report(original, .libpcap)
    for f in [swapped, nanos] {
      #expect(try report(f, .mapped) == base, "\(f)")
      #expect(try report(f, .libpcap) == base, "\(f)")
    }
  }

  /// A little-endian microsecond pcap rewritten in big-endian order or with nanoseconds.
  static func rewrite(_ d: [UInt8], swap: Bool, nanos: Bool) -> [UInt8] {
    func get(_ o: Int) -> UInt32 { d[o..<o + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    func put(_ v: UInt32, _ out: inout [UInt8]) {
      let le = [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
      out += swap ? le.reversed() : le
    }
    func put16(_ v: UInt16, _ out: inout [UInt8]) {
      let le = [UInt8(v & 0xFF), UInt8(v >> 8)]
      out += swap ? le.reversed() : le
    }
    var out: [UInt8] = []
    put(nanos ? 0xa1b2_3c4d : 0xa1b2_c3d4, &out)
    put16(2, &out)
    put16(4, &out)
    for o in stride(from: 8, to: 24, by: 4) { put(get(o), &out) }
    var off = 24
    while off + 16 <= d.count {
      let caplen = Int(get(off + 8))
      put(get(off), &out)
      put(nanos ? get(off + 4) * 1000 : get(off + 4), &out)
      put(get(off + 8), &out)
      put(get(off + 12), &out)
      out += d[off + 16..<off + 16 + caplen]
      off += 16 + caplen
    }
    return out
  }

  /// Records longer than the file's snapshot length are cut to it by both readers (libpcap
  /// does), and their wire length is counted after the cut: found by the differential fuzzer.
  @Test func recordsPastTheSnapshotLengthAreCutAlike() throws {
    var bytes = try [UInt8](
      Data(contentsOf: URL(fileURLWithPath: Paths.capture("miners/xmr_rx0_plain_eth.pcap"))))
    bytes.replaceSubrange(16..<20, with: [60, 0, 0, 0])  // snaplen 60: every TCP payload cut off
    let f = Paths.scratch(UUID().uuidString + "-snaplen.pcap")
    try Data(bytes).write(to: URL(fileURLWithPath: f))
    #expect(try report(f, .mapped) == report(f, .libpcap))
    let r = try Scanner(signatures: loadSignatures()).scan(files: [f])
    #expect(r.capture.packets > 300 && r.miningHosts.isEmpty)  // no payload left to read
    for name in ["readers-snaplen-cut", "readers-wirelen-after-cut"] {
      let seed = Paths.repo.appendingPathComponent("Tests/Fuzz/regressions/fuzz_capture/" + name).path
      #expect(try report(seed, .mapped) == report(seed, .libpcap), "\(name)")
    }
  }

  /// Cut in a record's header, cut in its data, a length past any snaplen: both readers report
  /// what came before and warn alike.
  @Test func damagedFilesWarnAlike() throws {
    let original = try [UInt8](
      Data(contentsOf: URL(fileURLWithPath: Paths.capture("miners/xmr_rx0_plain_eth.pcap"))))
    var huge = original
    huge.replaceSubrange(24 + 8..<24 + 12, with: [0xE0, 0x93, 0x04, 0x00])  // 300,000
    let cases: [(String, [UInt8], String)] = [
      ("header", Array(original.prefix(original.count / 2 + 7)), "truncated dump file"),
      ("data", Array(original.dropLast(100)), "captured bytes"),
      ("huge", huge, "invalid packet capture length 300000"),
    ]
    for (name, bytes, expected) in cases {
      let f = Paths.scratch(UUID().uuidString + "-\(name).pcap")
      try Data(bytes).write(to: URL(fileURLWithPath: f))
      let mapped = try Scanner(signatures: loadSignatures()).scan(files: [f], reader: .mapped)
      let libpcap = try Scanner(signatures: loadSignatures()).scan(files: [f], reader: .libpcap)
      let threaded = try Scanner(signatures: loadSignatures()).scan(files: [f], reader: .mapped, threads: 2)
      #expect(mapped.capture.warnings == libpcap.capture.warnings, "\(name)")
      #expect(threaded.capture.warnings == mapped.capture.warnings, "\(name)")
      #expect(threaded.capture.packets == mapped.capture.packets, "\(name)")
      #expect(try report(f, .mapped, threads: 2) == report(f, .mapped), "\(name)")
      #expect(try report(f, .mapped, threads: 4) == report(f, .mapped), "\(name): sharded")
      #expect(
        mapped.capture.warnings.first?.contains(expected) == true, "\(name): \(mapped.capture.warnings)")
      #expect(mapped.capture.packets == libpcap.capture.packets, "\(name)")
    }
  }
}
