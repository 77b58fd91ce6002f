import CaptureForge
import Foundation
import MinewatchCore
import Testing

@testable import MinewatchKit

/// A sharded scan (one reader, engines that share the flows out: `--threads` 3 or more) reports
/// what one engine reports, on a capture where what spans flows decides the findings: pool
/// addresses learned from DNS answers to other hosts' resolvers, logins and probes that make a
/// host's activity, encrypted miners corroborated by other flows' pushes, and timelines
/// sampled across the engines. The flows of each case are spread over many hosts, so that
/// whatever the shard seed, some of what must meet lands in different engines.
@Suite struct ShardedScanTests {
  static let t0: UInt64 = 1_700_000_000 * 1_000_000_000
  static let s: UInt64 = 1_000_000_000

  func report(_ path: String, threads: Int, site: SiteSettings) throws -> ScanReport {
    var limits = EngineLimits()
    site.apply(to: &limits)
    let scanner = try Scanner(signatures: loadSignatures(), limits: limits)
    try site.apply(to: scanner.pipeline)
    return try scanner.scan(files: [path], threads: threads)
  }

  func json(_ r: ScanReport) -> String {
    var out = Data()
    r.writeJSON { out.append($0) }
    return String(decoding: out, as: UTF8.self)
  }

  /// 16 hosts told a pool's address by a resolver, then talking to it on 443 without a name.
  func dnsThenConnect(_ w: PcapWriter) {
    for i in 0..<16 {
      let host = "10.40.0.\(i + 1)"
      let pool = Peer("203.0.113.\(100 + i)", 443)
      writeDNSAnswer(
        w, to: host, name: "stratum.braiins.com", address: pool.address, ttl: 600,
        at: Self.t0 + UInt64(i) * Self.s)
      let c = Conversation(
        writer: w, client: Peer(host, 40000), server: pool, startNs: Self.t0 + UInt64(i + 30) * Self.s)
      for _ in 0..<5 {
        c.send(fromClient: true, [0x17, 0x03, 0x03] + Array(repeating: 0x51, count: 200))
        c.advance(seconds: 7)
        c.send(fromClient: false, [0x17, 0x03, 0x03] + Array(repeating: 0x52, count: 90))
      }
      c.close()
    }
  }

  /// 12 lab hosts: an outside login, mining two minutes later; 4 more mine, then probe 60 others.
  func loginsAndProbes(_ w: PcapWriter) {
    for i in 0..<16 {
      let host = "10.20.1.\(10 + i)"
      let at = Self.t0 + UInt64(i) * 3 * Self.s
      if i < 12 {
        let c = Conversation(
          writer: w, client: Peer("198.51.100.\(7 + i)", 50022), server: Peer(host, 22), startNs: at)
        c.send(fromClient: false, line: "SSH-2.0-OpenSSH_9.2")
        c.send(fromClient: true, line: "SSH-2.0-libssh2_1.10.0")
      }
      let m = Conversation(
        writer: w, client: Peer(host, 41000), server: Peer("203.0.113.50", 3333), startNs: at + 120 * Self.s)
      Scenarios.stratum(m, login: "lab.rig\(i)", difficulty: 0.01, shares: 12, interval: 5)
      m.close()
      if i >= 12 {
        for t in 0..<60 {
          w.write(
            frame: PacketBuilder.tcp(
              link: w.link, from: Peer(host, UInt16(30000 + t)), to: Peer("10.20.\(2 + i).\(1 + t)", 6379),
              seq: 1, ack: 0, flags: PacketBuilder.syn, payload: []),
            timeNs: at + 200 * Self.s + UInt64(t) * 10_000_000)
        }
      }
    }
  }

  /// A readable Monero miner whose pool pushes a job at each block, and six encrypted miners
  /// whose pools push at the same moments.
  func corroboratedSuspects(_ w: PcapWriter) {
    let blocks: [Double] = [40, 95, 170, 230, 300, 365]
    let plain = Conversation(
      writer: w, client: Peer("10.35.2.1", 41000), server: Peer("198.51.100.20", 3333), startNs: Self.t0)
    Scenarios.cryptoNoteJobPushes(plain, atSeconds: blocks)
    for k in 0..<6 {
      var records = TLSRhythm.minerRecords(
        seed: UInt64(40 + k), submits: 60, mean: 6, submit: 244, answer: 85, push: 430
      ).filter { $0.1 || $0.2 < 400 }
      records += blocks.map { ($0 + 0.3 + Double(k) * 0.1, false, 430) }
      TLSRhythm.flow(
        w, client: Peer("10.35.2.\(10 + k)", 50000), server: Peer("198.51.100.\(90 + k)", 443),
        startNs: Self.t0, records)
    }
  }

  /// The README's limit: at most 64 engines. `--threads 256` runs 64 and reports as one does;
  /// the C side refuses 65 in one line.
  @Test func engineLimitIsEnforced() throws {
    let sample = Paths.repo.appendingPathComponent("Tests/Fixtures/sample.pcap").path
    let site = SiteSettings()
    #expect(
      json(try report(sample, threads: 256, site: site)) == json(try report(sample, threads: 1, site: site)))
    var err = [CChar](repeating: 0, count: 256)
    guard let capture = mw_capture_open_file(sample, &err, err.count) else {
      Issue.record("sample not readable")
      return
    }
    defer { mw_capture_close(capture) }
    let engines = try (0..<65).map { _ in
      try CoreEngine(names: nil, sink: SessionTracker(signatures: loadSignatures()))
    }
    let raws: [OpaquePointer?] = engines.map { $0.raw }
    #expect(mw_shards_start(capture, raws, 65, 0, 1, 1, &err, err.count) == nil)
    #expect(cText(err) == "engines: 65 is not 1 to 64")
  }

  /// A capture rotated into files (tcpdump -C or -G) carries its flows across them: a flow must
  /// stay with one engine from one file to the next, as it stays in a one-engine scan, or its
  /// session splits in two. Each recorded miner's session cut in the middle of its capture.
  @Test func flowsKeepTheirEngineAcrossFiles() throws {
    let miners = [
      "btc_sha256d_cpuminer_eth.pcap", "ltc_scrypt_cpuminer_eth.pcap", "xmr_rx0_plain_eth.pcap",
      "xmr_rx0_reconnect_seedchange_eth.pcap", "xmr_rx0_tls_ip_only_eth.pcap", "xmr_rx0_tls_sni_eth.pcap",
    ]
    for name in miners {
      let whole = Paths.capture("miners/" + name)
      let parts = try rotated(whole, into: Paths.scratch(UUID().uuidString + "-" + name))
      let scanner = { try Scanner(signatures: loadSignatures()) }
      let unsplit = try scanner().scan(files: [whole])
      let one = try scanner().scan(files: parts, threads: 1)
      // The files' names aside, the rotated capture is the capture: the same sessions.
      #expect(sessions(unsplit) > 0, "\(name)")
      #expect(sessions(one) == sessions(unsplit), "\(name)")
      #expect(one.hosts.map(\.sessions.count) == unsplit.hosts.map(\.sessions.count), "\(name)")
      let expected = json(one)
      for threads in [3, 4, 8] {
        let r = try scanner().scan(files: parts, threads: threads)
        #expect(
          json(r) == expected,
          "\(name), threads \(threads): \(sessions(r)) sessions against \(sessions(one))")
      }
    }
  }

  func sessions(_ r: ScanReport) -> Int { r.hosts.reduce(0) { $0 + $1.sessions.count } }

  /// A capture cut at its middle record into two files, as a rotating capture writes them.
  func rotated(_ path: String, into prefix: String) throws -> [String] {
    let records = try readPcapRecords(path)
    let halves = [records[..<(records.count / 2)], records[(records.count / 2)...]]
    return try halves.enumerated().map { i, half in
      let file = prefix + "-\(i).pcap"
      let w = try PcapWriter(path: file, link: .ethernet(vlans: []))
      for (ts, frame) in half { w.write(frame: frame, timeNs: ts) }
      w.close()
      return file
    }
  }

  @Test func engineCountsGiveOneReport() throws {
    let path = Paths.scratch(UUID().uuidString + "-sharded.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    w.sortByTime = true
    dnsThenConnect(w)
    loginsAndProbes(w)
    corroboratedSuspects(w)
    w.close()
    var site = SiteSettings()
    site.assets = try scratchFile(
      "assets.csv", "cidr,unit,contact,class\n10.20.1.0/24,Physics,physics-it@example.edu,labs\n")

    let one = try report(path, threads: 1, site: site)
    // What the capture must show, so that agreeing means something.
    let byDNS = one.hosts.filter { "\($0.ip)".hasPrefix("10.40.0.") && $0.findings.contains(.poolConnection) }
    #expect(byDNS.count == 16, "\(one.hosts.map { "\($0.ip) \($0.findings)" })")
    let logins = (0..<12).compactMap { one.host("10.20.1.\(10 + $0)") }.filter {
      $0.kind == .hijacked && $0.kindReasons.first?.contains("after an inbound login on port 22") == true
    }
    #expect(logins.count == 12)
    let probes = (12..<16).compactMap { one.host("10.20.1.\(10 + $0)") }.filter {
      $0.kind == .hijacked && $0.kindReasons.first?.hasPrefix("probes others") == true
    }
    #expect(probes.count == 4)
    let suspects = (0..<6).compactMap { one.host("10.35.2.\(10 + $0)")?.sessions.first }
    #expect(suspects.count == 6)
    #expect(
      suspects.allSatisfy { s in s.evidence.contains { $0.contains("job pushes to readable rx/0 miners") } })
    #expect(suspects.allSatisfy { s in s.evidence.contains { $0.contains("other encrypted flow(s)") } })
    #expect(one.hosts.contains { !$0.timeline.isEmpty })

    let expected = json(one)
    for threads in [3, 4, 8] {
      #expect(json(try report(path, threads: threads, site: site)) == expected, "threads \(threads)")
    }
  }
}
