import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// Every limit the README's table states, exceeded: the table stays at its size, what does not
/// fit is counted under its stable name, and what fits is still reported right.
@Suite struct LimitsTests {
  static let t0: UInt64 = 1_763_900_000 * 1_000_000_000
  static let wallet =
    "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoE"

  func forge(_ name: String, _ build: (PcapWriter) -> Void) throws -> String {
    let path = Paths.scratch(UUID().uuidString + "-" + name)
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    w.sortByTime = true
    build(w)
    w.releaseHeld()
    w.close()
    return path
  }

  func query(_ w: PcapWriter, from host: Peer, name: String, at ns: UInt64) {
    w.write(
      frame: PacketBuilder.udp(
        link: w.link, from: host, to: Peer("10.31.0.53", 53), payload: DNSMessage.query(id: 7, name: name)),
      timeNs: ns)
  }

  /// 70,000 spoofed pool-name queries, one packet each from its own source: 65,536 (host, name)
  /// pairs kept, the rest counted; a ninth name from one host is counted too.
  @Test func lookupTableHoldsItsLimit() throws {
    let file = try forge("dns-spoof.pcap") { w in
      for i in 0..<70_000 {
        let ip = "10.\(100 + i / 65_536).\(i / 256 % 256).\(i % 256)"
        query(w, from: Peer(ip, 40000), name: "pool.supportxmr.com", at: Self.t0 + UInt64(i) * 1000)
      }
    }
    let r = try scan([file])
    #expect(r.hosts.count == 65_536 && r.hosts.allSatisfy { $0.role == .lookup })
    #expect((r.anomalies["lookup_table_full"] ?? 0) == 4_464)  // 70,000 − 65,536

    let names = try forge("dns-names.pcap") { w in
      let pools = [
        "pool.supportxmr.com", "xmr.nanopool.org", "pool.minexmr.com", "xmr-eu1.nanopool.org",
        "eu1-zcash.flypool.org", "stratum.braiins.com", "litecoinpool.org", "xmr.2miners.com",
        "rvn.2miners.com",
      ]
      for (i, n) in pools.enumerated() {
        query(w, from: Peer("10.31.7.40", 40000), name: n, at: Self.t0 + UInt64(i) * 1000)
      }
    }
    let one = try scan([names])
    let h = try #require(one.host("10.31.7.40"))
    #expect(h.lookups.count == 8)
    #expect((one.anomalies["lookup_table_full"] ?? 0) == 1)
  }

  func concurrentMiners(_ n: Int, shares: Int = 3) throws -> String {
    try forge("miners.pcap") { w in
      for i in 0..<n {
        let c = Conversation(
          writer: w, client: Peer("10.32.\(i / 256).\(i % 256)", 41000), server: Peer("198.51.100.20", 3333),
          startNs: Self.t0 + UInt64(i) * 1_000_000)
        Scenarios.cryptoNote(c, login: Self.wallet, shares: shares, interval: 5)
      }
    }
  }

  /// Open sessions: 40 concurrent miners through a table of 16.
  @Test func sessionTableHoldsItsLimit() throws {
    var limits = EngineLimits()
    limits.openSessions = 16
    let r = try Scanner(signatures: loadSignatures(), limits: limits).scan(files: [concurrentMiners(40)])
    #expect(r.miningHosts.count == 16)
    #expect((r.anomalies["session_table_full"] ?? 0) >= 24)
  }

  /// Hosts and listed sessions: past the host table's size a host is counted, not kept; past the
  /// listing limit a session still adds to its host's figures.
  @Test func hostTableHoldsItsLimits() throws {
    let r = try Scanner(signatures: loadSignatures(), hosts: HostTable(maxHosts: 5, maxListed: 1000))
      .scan(files: [concurrentMiners(8)])
    #expect(r.miningHosts.count == 5 && (r.anomalies["host_table_full"] ?? 0) == 3)

    let file = try forge("reconnects.pcap") { w in
      var t = Self.t0
      for round in 0..<4 {
        let c = Conversation(
          writer: w, client: Peer("10.31.7.30", UInt16(42000 + round)), server: Peer("198.51.100.20", 3333),
          startNs: t)
        Scenarios.cryptoNote(c, login: Self.wallet, shares: 30, interval: 10)
        c.close()
        t = c.timeNs + 60_000_000_000
      }
    }
    let listed = try Scanner(signatures: loadSignatures(), hosts: HostTable(maxListed: 3)).scan(files: [file])
    let h = try #require(listed.host("10.31.7.30"))
    #expect(h.sessions.count == 3 && h.sessionsTotal == 4 && h.shares == 120)
    #expect((listed.anomalies["host_sessions_not_listed"] ?? 0) == 1)
    #expect(within(h.hashrate, 2000, 0.01))
  }

  /// JSON nested past 32 levels is refused and counted; the miner's other lines still count.
  @Test func deepJSONIsCounted() throws {
    let file = try forge("deep.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.31.7.41", 41000), server: Peer("198.51.100.20", 3333), startNs: Self.t0)
      Scenarios.cryptoNote(c, login: Self.wallet, shares: 3, interval: 5)
      c.send(
        fromClient: true,
        line: #"{"id":9,"method":"submit","params":"# + String(repeating: "[", count: 40)
          + String(repeating: "]", count: 40) + "}")
    }
    let r = try scan([file])
    #expect((r.anomalies["json_too_deep"] ?? 0) >= 1)
    #expect(r.host("10.31.7.41")?.sessions.first?.sharesSubmitted ?? 0 >= 3)
  }

  /// An HTTP body announced past the line limit is counted and not buffered.
  @Test func overLongHTTPBodyIsCounted() throws {
    let file = try forge("http-body.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.31.7.42", 41000), server: Peer("198.51.100.20", 8080), startNs: Self.t0)
      c.send(
        fromClient: true,
        Array("POST / HTTP/1.1\r\nHost: 198.51.100.20\r\nContent-Length: 1000000\r\n\r\n".utf8)
          + Array(repeating: UInt8(ascii: "a"), count: 3000))
    }
    let r = try scan([file])
    #expect((r.anomalies["http_body_too_long"] ?? 0) == 1)
    #expect(r.hosts.isEmpty)
  }

  /// Pool addresses from DNS answers: a table of 16 given 64 answers keeps the newest.
  @Test func poolAddressTableHoldsItsLimit() throws {
    var limits = EngineLimits()
    limits.poolAddresses = 16
    let file = try forge("answers.pcap") { w in
      for i in 0..<64 {
        w.write(
          frame: PacketBuilder.udp(
            link: w.link, from: Peer("10.31.0.53", 53), to: Peer("10.31.7.43", 40000),
            payload: DNSMessage.answer(
              id: UInt16(i), name: "pool.supportxmr.com", addresses: [[203, 0, 113, UInt8(i)]], ttl: 3600)),
          timeNs: Self.t0 + UInt64(i) * 1000)
      }
      let c = Conversation(
        writer: w, client: Peer("10.31.7.43", 41000), server: Peer("203.0.113.63", 443),
        startNs: Self.t0 + 1_000_000_000)
      c.send(fromClient: true, Array(repeating: 0x17, count: 200))
      c.send(fromClient: false, Array(repeating: 0x17, count: 200))
    }
    let r = try Scanner(signatures: loadSignatures(), limits: limits).scan(files: [file])
    #expect((r.anomalies["pool_address_evicted"] ?? 0) >= 48)
    // The newest answer is still known: the flow to it is a pool connection.
    #expect(r.host("10.31.7.43")?.sessions.first?.finding == .poolConnection)
  }

  /// Evidence files open at once: two allowed, four findings at the same time.
  @Test func evidenceOpenFilesHoldTheirLimit() throws {
    let dir = Paths.scratch(UUID().uuidString + "-evidence")
    var settings = EvidenceSettings(directory: dir)
    settings.maxOpenFiles = 2
    let scanner = try Scanner(signatures: loadSignatures())
    try scanner.pipeline.recordEvidence(settings)
    let r = try scanner.scan(files: [concurrentMiners(4, shares: 20)])
    #expect(r.miningHosts.count == 4)
    #expect((r.anomalies["evidence_open_files_limit"] ?? 0) == 2)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".pcap") }
    #expect(files.count == 2)
  }

  /// Rhythm records: 4,096 encrypted flows followed at once; a 4,097th takes the oldest's record.
  @Test func rhythmRecordsHoldTheirLimit() throws {
    let file = try forge("tls-flows.pcap") { w in
      writeTLSHellos(
        w, count: 5_000, subnet: 36, server: "198.51.100.90", from: Self.t0, spacingNs: 1_000_000)
    }
    let r = try scan([file])
    #expect((r.anomalies["rhythm_evicted"] ?? 0) == 904)  // 5,000 − 4,096
    #expect(r.hosts.isEmpty)
  }
}
