import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// Each kind of mining from a capture that should produce it, and the signs that must not.
@Suite struct KindTests {
  static let t0: UInt64 = 1_700_000_000 * 1_000_000_000
  static let s: UInt64 = 1_000_000_000
  let miner = "10.20.1.5"
  let pool = Peer("203.0.113.50", 3333)
  let wallet =
    "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoE"

  /// The asset map: a lab, a server room, a research group.
  func site(_ cls: String) throws -> SiteSettings {
    var site = SiteSettings()
    site.assets = try scratchFile(
      "assets.csv", "cidr,unit,contact,class\n10.20.1.0/24,Physics,physics-it@example.edu,\(cls)\n")
    return site
  }

  func mine(_ w: PcapWriter, at: UInt64, cpu: Bool = false) {
    let c = Conversation(writer: w, client: Peer(miner, 41000), server: pool, startNs: at)
    if cpu {
      Scenarios.cryptoNote(c, login: wallet, shares: 12, interval: 5)
    } else {
      Scenarios.stratum(c, login: "lab.rig1", difficulty: 0.01, shares: 12, interval: 5)
    }
  }

  /// An inbound connection to the miner's login port, accepted (SYN, SYN-ACK, ACK, a little data).
  func login(_ w: PcapWriter, from peer: String, port: UInt16 = 22, at: UInt64) {
    let c = Conversation(writer: w, client: Peer(peer, 50022), server: Peer(miner, port), startNs: at)
    c.send(fromClient: false, line: "SSH-2.0-OpenSSH_9.2")
    c.send(fromClient: true, line: "SSH-2.0-libssh2_1.10.0")
  }

  /// Connection attempts from the miner to `targets` internal addresses on `port`, unanswered.
  func probe(_ w: PcapWriter, targets: Int, port: UInt16, at: UInt64) {
    for i in 0..<targets {
      let dst = Peer("10.20.\(2 + i / 250).\(1 + i % 250)", port)
      w.write(
        frame: PacketBuilder.tcp(
          link: w.link, from: Peer(miner, UInt16(30000 + i)), to: dst, seq: 1, ack: 0,
          flags: PacketBuilder.syn,
          payload: []), timeNs: at + UInt64(i) * 10_000_000)
    }
  }

  func host(_ r: ScanReport) throws -> ScanReport.Host { try #require(r.host(miner)) }

  @Test func aLabMinerIsActive() throws {
    let (r, _) = try scanForged("active.pcap", site: site("labs")) { w in mine(w, at: Self.t0) }
    let h = try host(r)
    #expect(h.kind == .active)
    #expect(h.kindReasons.first == "no sign of compromise")
    #expect(h.kindReasons.contains("address in Physics, class labs"))
  }

  @Test func aResearchClassIsResearch() throws {
    let (r, _) = try scanForged("research.pcap", site: site("research")) { w in mine(w, at: Self.t0) }
    let h = try host(r)
    #expect(h.kind == .research)
    #expect(h.kindReasons == ["address in Physics, class research"])
  }

  @Test func aServerMiningOnCPUIsHijacked() throws {
    let (r, _) = try scanForged("server-cpu.pcap", site: site("servers")) { w in
      mine(w, at: Self.t0, cpu: true)
    }
    let h = try host(r)
    #expect(h.kind == .hijacked)
    #expect(h.kindReasons == ["server-class address (Physics, class servers) mining on CPU (randomx)"])
    // The same server mining SHA-256d (an ASIC's algorithm, cpuminer) is not the CPU sign.
    let (asic, _) = try scanForged("server-sha.pcap", site: site("servers")) { w in
      let c = Conversation(writer: w, client: Peer(miner, 41000), server: pool, startNs: Self.t0)
      Scenarios.stratum(
        c, agent: "bmminer/2.0.0", login: "lab.rig1", difficulty: 0.01, shares: 4, interval: 5)
    }
    #expect(try host(asic).kind == .active)
  }

  @Test func miningRightAfterAnOutsideLoginIsHijacked() throws {
    let (r, _) = try scanForged("login.pcap", site: site("labs")) { w in
      login(w, from: "198.51.100.7", at: Self.t0)
      mine(w, at: Self.t0 + 120 * Self.s)
      // A later login must not replace the one before the mining.
      login(w, from: "198.51.100.99", at: Self.t0 + 400 * Self.s)
    }
    let h = try host(r)
    #expect(h.kind == .hijacked)
    #expect(h.kindReasons == ["mining began 120 s after an inbound login on port 22 from 198.51.100.7"])
    let pl = try #require(h.sessions.first?.precedingLogin)
    #expect("\(pl.peer)" == "198.51.100.7" && pl.port == 22)
  }

  @Test func anInsideLoginDoesNotHideAnOutsideOne() throws {
    let (r, _) = try scanForged("login-inside.pcap", site: site("labs")) { w in
      login(w, from: "198.51.100.7", at: Self.t0)
      login(w, from: "10.20.9.9", at: Self.t0 + 30 * Self.s)  // an admin, from inside, after it
      mine(w, at: Self.t0 + 120 * Self.s)
    }
    #expect(
      try host(r).kindReasons == ["mining began 120 s after an inbound login on port 22 from 198.51.100.7"])
    // The core keeps four logins per host: a fifth pushes the outside one out of sight.
    let (flooded, _) = try scanForged("login-ring.pcap", site: site("labs")) { w in
      login(w, from: "198.51.100.7", at: Self.t0)
      for i in 0..<4 { login(w, from: "10.20.9.\(i + 1)", at: Self.t0 + UInt64(10 + i) * Self.s) }
      mine(w, at: Self.t0 + 120 * Self.s)
    }
    #expect(try host(flooded).kind == .active)
  }

  @Test func loginsThatDoNotPrecedeMiningAreNotSigns() throws {
    // From inside the site; long before (outside the 15-minute window); on a port that is not a
    // login port; after the mining began.
    let (r, _) = try scanForged("no-login.pcap", site: site("labs")) { w in
      login(w, from: "10.20.9.9", at: Self.t0 + 3600 * Self.s)
      login(w, from: "198.51.100.7", at: Self.t0)
      login(w, from: "198.51.100.8", port: 8443, at: Self.t0 + 3650 * Self.s)
      mine(w, at: Self.t0 + 3660 * Self.s)
      login(w, from: "198.51.100.9", at: Self.t0 + 3700 * Self.s)
    }
    let h = try host(r)
    #expect(h.kind == .active, "\(h.kindReasons)")
  }

  @Test func aHostProbingOthersIsHijacked() throws {
    let (r, _) = try scanForged("probe.pcap", site: site("labs")) { w in
      mine(w, at: Self.t0)
      probe(w, targets: 60, port: 6379, at: Self.t0 + 10 * Self.s)
    }
    let h = try host(r)
    #expect(h.kind == .hijacked)
    let reason = try #require(h.kindReasons.first)
    #expect(reason.hasPrefix("probes others: about "))
    #expect(reason.hasSuffix("(60 attempts)"))
    // Linear counting over 256 bits: 60 distinct targets estimate within a few.
    let estimate = Int(reason.split(separator: " ")[3])!
    #expect((52...68).contains(estimate))
    // The same estimate on every scan of the capture (the bits' key is fixed, not the run's).
    for _ in 0..<3 {
      let (again, _) = try scanForged("probe-again.pcap", site: site("labs")) { w in
        mine(w, at: Self.t0)
        probe(w, targets: 60, port: 6379, at: Self.t0 + 10 * Self.s)
      }
      #expect(try host(again).kindReasons == h.kindReasons)
    }
  }

  @Test func fewAttemptsOrOrdinaryPortsAreNotProbing() throws {
    let (r, _) = try scanForged("no-probe.pcap", site: site("labs")) { w in
      mine(w, at: Self.t0)
      probe(w, targets: 10, port: 22, at: Self.t0 + 10 * Self.s)  // under the threshold of 32
      probe(w, targets: 200, port: 443, at: Self.t0 + 20 * Self.s)  // browsing, not a probe port
    }
    #expect(try host(r).kind == .active)
    // The threshold is configuration: at 8 the ten SSH attempts are probing.
    var s = try site("labs")
    _ = try s.set("probe_targets", "8")
    let (strict, _) = try scanForged("probe-8.pcap", site: s) { w in
      mine(w, at: Self.t0)
      probe(w, targets: 10, port: 22, at: Self.t0 + 10 * Self.s)
    }
    #expect(try host(strict).kind == .hijacked)
  }

  @Test func aCryptojackingPoolIsASign() throws {
    let (r, _) = try scanForged("jacking.pcap", site: site("labs")) { w in
      let resolver = Peer("10.20.0.53", 53)
      let h = Peer(miner, 40000)
      w.write(
        frame: PacketBuilder.udp(
          link: w.link, from: resolver, to: h,
          payload: DNSMessage.answer(
            id: 3, name: "pool.supportxmr.com", addresses: [[203, 0, 113, 50]], ttl: 600)),
        timeNs: Self.t0)
      mine(w, at: Self.t0 + Self.s, cpu: true)
    }
    let h = try host(r)
    #expect(h.kind == .hijacked)
    #expect(h.kindReasons.count == 1)
    #expect(h.kindReasons[0].hasPrefix("pool or agent typical of cryptojacking malware: cryptojacking.txt:"))
    #expect(h.kindReasons[0].contains("sigma:net_dns_pua_cryptocoin_mining_xmr"))
  }

  @Test func anInternalStratumServerIsAProxy() throws {
    let (r, _) = try scanForged("proxy-kind.pcap", site: SiteSettings()) { w in
      for (i, rig) in ["10.20.0.11", "10.20.0.12"].enumerated() {
        let c = Conversation(
          writer: w, client: Peer(rig, UInt16(41000 + i)), server: Peer("10.20.0.2", 3333),
          startNs: Self.t0 + UInt64(i) * 1000)
        Scenarios.cryptoNote(c, login: "rig\(i)", shares: 3, interval: 5)
      }
    }
    let proxy = try #require(r.hosts.first { $0.role == .proxy })
    #expect(proxy.kind == .proxy)
    #expect(proxy.kindReasons == ["serves stratum to 2 internal host(s)"])
    // The rigs behind it are miners of their own kind.
    #expect(r.host("10.20.0.11")?.kind == .active)
  }

  @Test func theHostTableIsBoundedUnderASpoofedFlood() throws {
    var limits = EngineLimits()
    limits.hostRecords = 64
    let scanner = try Scanner(signatures: loadSignatures(), limits: limits)
    let path = Paths.scratch(UUID().uuidString + "-synflood.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    for i in 0..<5000 {
      w.write(
        frame: PacketBuilder.tcp(
          link: w.link, from: Peer("198.51.\(100 + i / 250 % 2).\(i % 250)", UInt16(1024 + i)),
          to: Peer("10.20.\(i % 200).1", 6379), seq: 1, ack: 0, flags: PacketBuilder.syn, payload: []),
        timeNs: Self.t0 + UInt64(i) * 1000)
    }
    w.close()
    let r = try scanner.scan(files: [path])
    #expect((r.anomalies["host_activity_evicted"] ?? 0) > 0)
    #expect(r.hosts.isEmpty)
  }
}
