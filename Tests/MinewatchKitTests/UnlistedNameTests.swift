import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// A pool no signature lists still shows the name the host asked DNS for, with the source of
/// the name in the evidence and no pool name: shown, not attributed.
@Suite struct UnlistedNameTests {
  static let t0: UInt64 = 1_763_900_000 * 1_000_000_000
  static let wallet =
    "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoE"

  @Test func dnsNameOfAnUnlistedPoolIsShown() throws {
    let r = try scanForged("unlisted-dns.pcap") { w in
      writeDNSAnswer(
        w, to: "10.34.0.1", name: "xmr.unlisted-pool.example", cnames: ["edge.cdn.example"],
        address: [198, 51, 100, 60], ttl: 300, at: Self.t0)
      let c = Conversation(
        writer: w, client: Peer("10.34.0.1", 41000), server: Peer("198.51.100.60", 3333),
        startNs: Self.t0 + 1_000_000_000)
      Scenarios.cryptoNote(c, login: Self.wallet, shares: 5, interval: 4)
      // The same kind of answer, but the miner connects after its TTL ran out: no name.
      writeDNSAnswer(
        w, to: "10.34.0.2", name: "old.unlisted-pool.example", cnames: ["edge.cdn.example"],
        address: [198, 51, 100, 61], ttl: 5, at: Self.t0)
      let late = Conversation(
        writer: w, client: Peer("10.34.0.2", 41000), server: Peer("198.51.100.61", 3333),
        startNs: Self.t0 + 60_000_000_000)
      Scenarios.cryptoNote(late, login: Self.wallet, shares: 5, interval: 4)
      // An answered address that carries no mining is nothing at all.
      writeDNSAnswer(
        w, to: "10.34.0.3", name: "www.example.org", cnames: ["edge.cdn.example"],
        address: [198, 51, 100, 62], ttl: 300, at: Self.t0)
      let web = Conversation(
        writer: w, client: Peer("10.34.0.3", 41000), server: Peer("198.51.100.62", 80),
        startNs: Self.t0 + 1_000_000_000)
      web.send(fromClient: true, Array("GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n".utf8))
    }
    let s = try #require(r.host("10.34.0.1")?.sessions.first)
    #expect(s.poolDomain == "xmr.unlisted-pool.example" && s.poolName == nil)
    #expect(s.evidence.contains("dns:xmr.unlisted-pool.example"))
    let late = try #require(r.host("10.34.0.2")?.sessions.first)
    #expect(late.poolDomain == nil && !late.evidence.contains { $0.hasPrefix("dns:") })
    #expect(r.host("10.34.0.3") == nil)
  }
}
