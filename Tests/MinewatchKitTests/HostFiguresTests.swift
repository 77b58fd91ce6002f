import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// A host's figures come from the hashes of all its sessions over the time they covered
/// together: a miner that reconnects is counted once, rigs that mine at the same time behind one
/// address add up, and connection attempts that never carried data are counted, not listed.
@Suite struct HostFiguresTests {
  static let t0: UInt64 = 1_763_900_000 * 1_000_000_000
  static let wallet =
    "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoE"

  /// XMRig recorded while its pool went away: 20 shares, six refused reconnects, 47 shares.
  @Test func realReconnectingMinerIsOneHostFigure() throws {
    let r = try scan([Paths.capture("miners/xmr_rx0_reconnect_seedchange_eth.pcap")])
    #expect(r.miningHosts.count == 1)
    let h = try #require(r.host("10.31.7.28"))
    #expect(h.sessions.map(\.sharesSubmitted) == [20, 47] && h.sessionsTotal == 2)
    #expect(h.sessions.allSatisfy { $0.protocolVariant == "cryptonote" })  // no "unidentified" attempt
    let failed = try #require(h.failedConnections)
    #expect(failed.count == 6 && failed.pools == ["203.0.113.77:3333"])
    #expect(failed.firstNs > h.sessions[0].lastNs && failed.lastNs < h.sessions[1].firstNs)
    // The miner's own average over the capture: 96.5 H/s; ±42 % is 3σ for 67 shares (+5 %).
    let e = try #require(h.estimates["randomx"])
    #expect(within(e.rate, 96.5, 0.42), "\(e.rate)")
    #expect(e.low < e.rate && e.rate < e.high && h.shares == 67)
    // What adding the sessions' own rates gave: about twice the miner's figure.
    let summed = h.sessions.compactMap(\.hashrate?.rate).reduce(0, +)
    #expect(summed > 1.6 * e.rate)
    let spans = h.sessions.map { Double($0.lastNs - $0.firstNs) / 1e9 }.reduce(0, +)
    #expect(abs(h.miningSeconds - spans) < 0.001)
    #expect(r.hashrateByAlgorithm == ["randomx": e.rate])
    let power = try #require(h.power)
    #expect(abs(r.power.watts - power.watts) < 1e-12)
  }

  /// Four sessions of 30 shares at 2,000 H/s each (difficulty 20,000 every 10 s), with refused
  /// attempts between them: one figure of 2,000 H/s for the host, not 8,000.
  @Test func sequentialReconnectsGiveTheMinersOwnRate() throws {
    let pool = Peer("203.0.113.77", 3333)
    let r = try scanForged("reconnects.pcap") { w in
      writeDNSAnswer(
        w, to: "10.31.7.30", name: "pool.supportxmr.com", address: [203, 0, 113, 77], ttl: 86400, at: Self.t0)
      var t = Self.t0 + 1_000_000_000
      for round in 0..<4 {
        let c = Conversation(
          writer: w, client: Peer("10.31.7.30", UInt16(42000 + round * 10)), server: pool, startNs: t)
        Scenarios.cryptoNote(c, login: Self.wallet, shares: 30, interval: 10)
        c.close()
        t = c.timeNs + 5_000_000_000
        for attempt in 0..<3 where round < 3 {
          Conversation.refused(
            writer: w, client: Peer("10.31.7.30", UInt16(42001 + round * 10 + attempt)), server: pool, atNs: t
          )
          t += 15_000_000_000
        }
      }
    }
    let h = try #require(r.host("10.31.7.30"))
    #expect(h.sessions.count == 4 && h.sessions.allSatisfy { $0.sharesSubmitted == 30 })
    #expect((h.failedConnections?.count ?? 0) == 9)
    let e = try #require(h.estimates["randomx"])
    #expect(e.low <= 2000 && 2000 <= e.high, "\(e)")
    #expect(within(e.rate, 2000, 0.01), "\(e.rate)")
    #expect(h.shares == 120)
    #expect(within(h.miningSeconds, 4 * 300, 0.01))
  }

  /// Two rigs behind one address mining at the same time: their rates add up.
  @Test func concurrentRigsBehindOneAddressAddUp() throws {
    let r = try scanForged("two-rigs.pcap") { w in
      for rig in 0..<2 {
        let c = Conversation(
          writer: w, client: Peer("10.31.7.31", UInt16(43000 + rig)), server: Peer("198.51.100.20", 3333),
          startNs: Self.t0 + UInt64(rig) * 2_000_000_000)
        // 20,000 hashes every 10 s and every 5 s: 2,000 and 4,000 H/s.
        Scenarios.cryptoNote(
          c, login: Self.wallet + ".rig\(rig)", shares: rig == 0 ? 30 : 60, interval: rig == 0 ? 10 : 5)
      }
    }
    let h = try #require(r.host("10.31.7.31"))
    #expect(h.minerIdentities.count == 2)
    let e = try #require(h.estimates["randomx"])
    #expect(within(e.rate, 6000, 0.02), "\(e.rate)")
    #expect(e.low <= 6000 && 6000 <= e.high)
    #expect(within(h.miningSeconds, 300, 0.02))
  }

  /// A host that only ever tried to reach a pool is an attempt, not a miner.
  @Test func onlyRefusedAttemptsAreNotMining() throws {
    let r = try scanForged("refused.pcap") { w in
      writeDNSAnswer(
        w, to: "10.31.7.32", name: "pool.supportxmr.com", address: [203, 0, 113, 77], ttl: 86400, at: Self.t0)
      for i in 0..<5 {
        Conversation.refused(
          writer: w, client: Peer("10.31.7.32", UInt16(44000 + i)), server: Peer("203.0.113.77", 3333),
          atNs: Self.t0 + UInt64(i + 1) * 10_000_000_000)
      }
    }
    #expect(r.miningHosts.isEmpty && !r.foundMining)
    let h = try #require(r.host("10.31.7.32"))
    #expect(h.role == .attempt && h.sessions.isEmpty && (h.failedConnections?.count ?? 0) == 5)
  }

  @Test func spansMergeAndStayBounded() {
    var s = SpanSet()
    s.insert(10, 20)
    s.insert(30, 40)
    s.insert(15, 32)  // bridges both
    #expect(s.intervals.count == 1 && s.seconds == 30e-9)
    s.insert(100, 90)  // an end before its start is a point
    #expect(s.intervals.count == 2)
    var many = SpanSet()
    for i in 0..<1000 { many.insert(UInt64(i) * 100, UInt64(i) * 100 + 10 + UInt64(i % 7)) }
    #expect(many.intervals.count == SpanSet.maxIntervals)
    // Merging only lengthens the covered time: a rate read from it errs low.
    let exact = (0..<1000).reduce(0.0) { $0 + Double(10 + $1 % 7) } / 1e9
    #expect(many.seconds >= exact)
  }
}
