import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// Host timelines: the intervals add up to the session, and a change of pace shows.
@Suite struct TimelineTests {
  @Test func aMinerThatSlowsDownShowsItAndTheIntervalsAddUp() throws {
    let t0: UInt64 = 1_700_000_000 * 1_000_000_000
    let r = try scanForged("slowdown.pcap") { w in
      // The pool's name from DNS: a Bitcoin pool, so a share's worth in hashes is known.
      w.write(
        frame: PacketBuilder.udp(
          link: w.link, from: Peer("10.5.0.53", 53), to: Peer("10.5.5.5", 40001),
          payload: DNSMessage.answer(
            id: 1, name: "stratum.braiins.com", addresses: [[203, 0, 113, 50]], ttl: 600)),
        timeNs: t0 - 1_000_000)
      let c = Conversation(
        writer: w, client: Peer("10.5.5.5", 40000), server: Peer("203.0.113.50", 3333), startNs: t0)
      // Five minutes at a share every 5 s, then five at one every 20 s, difficulty fixed.
      Scenarios.stratum(c, login: "lab.rig", difficulty: 1, shares: 60, interval: 5)
      Scenarios.stratum(c, login: "lab.rig", difficulty: 1, shares: 15, interval: 20)
    }
    let h = try #require(r.host("10.5.5.5"))
    let s = try #require(h.sessions.first)
    #expect(h.timeline.count == 10)  // ten one-minute intervals (at least a minute each)
    var previous = r.capture.startNs
    var bytes = 0.0
    var hashes = 0.0
    for p in h.timeline {
      let seconds = Double(p.ns - previous) / 1e9
      bytes += p.egressMbps * seconds * 1e6 / 8
      hashes += (p.hashrate ?? 0) * seconds
      previous = p.ns
    }
    #expect(abs(bytes - Double(s.egressBytes)) < 1)
    let perShare = try #require(s.hashesPerShare)
    #expect(abs(hashes - perShare * Double(s.sharesSubmitted)) / hashes < 1e-9)
    let early = try #require(h.timeline[1].hashrate)
    let late = try #require(h.timeline[8].hashrate)
    #expect(abs(early / late - 4) < 0.5, "12 shares a minute, then 3: \(early) vs \(late)")
  }

  @Test func samplesStayBounded() {
    var t = TimelineSamples()
    for i in 0..<10_000 {
      t.add(.init(ns: UInt64(i + 1) * 1_000_000_000, egressBytes: UInt64(i) * 100, shares: i))
    }
    #expect(t.samples.count <= TimelineSamples.capacity)
    #expect(t.samples.last?.shares == 9_999)  // the latest always kept
    #expect(t.at(5_000 * 1_000_000_000).shares <= 4_999)
  }
}
