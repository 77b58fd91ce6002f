import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// Encrypted mining that no name gives away, found by its rhythm: submit-like records answered
/// within a round trip, job pushes, shares at random moments. Real XMRig over TLS, forged
/// miners and look-alikes that must stay silent.
@Suite struct RhythmTests {
  static let t0: UInt64 = 1_763_900_000 * 1_000_000_000

  /// XMRig 6.26 over TLS 1.3 to a bare address: no SNI, no DNS (EXPECTED.md: 46 shares, 7 pushes).
  @Test func tlsToABareAddressIsFoundByRhythm() throws {
    let r = try scan([Paths.capture("miners/xmr_rx0_tls_ip_only_eth.pcap")])
    #expect(r.miningHosts.map { "\($0.ip)" } == ["10.31.7.40"])
    let s = try #require(r.host("10.31.7.40")?.sessions.first)
    #expect(s.finding == .encryptedPattern && s.confidence == .medium && s.protocolVariant == "tls")
    #expect("\(s.poolIP):\(s.poolPort)" == "203.0.113.99:443" && s.poolDomain == nil)
    #expect(s.sharesSubmitted == 46 && s.sharesEstimated)  // within 10 % asked; exact here
    #expect(s.hashrate == nil && s.hashrateNote?.contains("46 shares estimated") == true)
    #expect(s.evidence.contains { $0.contains("submit-like records: 46 × ~243 B") })
    #expect(s.evidence.contains { $0.contains("7 server pushes of ~430 B") })
  }

  /// The TLS miner with a listed name, its names ignored: the rhythm alone finds it.
  @Test func namedTLSMinerWithNamesIgnored() throws {
    let r = try Scanner(signatures: loadSignatures().withoutNames())
      .scan(files: [Paths.capture("miners/xmr_rx0_tls_sni_eth.pcap")])
    let s = try #require(r.host("10.31.7.26")?.sessions.first)
    #expect(s.finding == .encryptedPattern && s.poolName == nil)
    #expect(s.sharesSubmitted == 86)
  }

  /// The ordinary corpus and the decoys with every name ignored: nothing has a miner's rhythm.
  @Test func ordinaryTrafficHasNoMinersRhythm() throws {
    let dir = Paths.captures.appendingPathComponent("ordinary").path
    let files = try FileManager.default.contentsOfDirectory(atPath: dir)
      .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    let decoys = [
      "public/ndpi_jsonrpc.pcap", "public/ndpi_bitcoin.pcap", "public/ndpi_monero.pcap",
      "public/peafowl_ethereum-js-http.pcap", "decoys/mqtt_tls_telemetry.pcap", "decoys/ssh_sessions.pcap",
      "decoys/websocket_chat.pcap", "decoys/imap_idle.pcap",
    ]
    let blind = try loadSignatures().withoutNames()
    var flagged: [String] = []
    for f in files.map({ "ordinary/" + $0 }) + decoys {
      guard let r = try? Scanner(signatures: blind).scan(files: [Paths.capture(f)]) else { continue }
      if r.hosts.contains(where: { $0.sessions.contains { $0.finding == .encryptedPattern } }) {
        flagged.append(f)
      }
    }
    #expect(files.count == 260 && flagged.isEmpty, "\(flagged)")
  }

  /// A real broker and client (Mosquitto, paho-mqtt) over TLS 1.3 for 200 s: QoS 1 telemetry at
  /// random moments, each answered by a PUBACK, and commands pushed now and then. Its rhythm is
  /// a miner's; its answers (26 B) are too small for JSON and its pushes too small for work.
  @Test func realMQTTTelemetryIsNotMining() throws {
    let file = Paths.capture("decoys/mqtt_tls_telemetry.pcap")
    let r = try Scanner(signatures: loadSignatures().withoutNames()).scan(files: [file])
    #expect(r.capture.packets > 200 && r.capture.durationSeconds > 200)
    #expect(r.miningHosts.isEmpty)
  }

  /// Five minutes each of real long-lived software (decoys/record-long-sessions.sh): OpenSSH
  /// with a typist and a `tail -f` (keepalives every 15 s), four users of a websocket chat over
  /// TLS whose server relays every message to everyone and pings every 20 s, and Dovecot
  /// pushing new mail to an IMAP IDLE client. None is mining, by rhythm or otherwise.
  @Test func realLongLivedSessionsAreNotMining() throws {
    let blind = try loadSignatures().withoutNames()
    for file in ["decoys/ssh_sessions.pcap", "decoys/websocket_chat.pcap", "decoys/imap_idle.pcap"] {
      let r = try Scanner(signatures: blind).scan(files: [Paths.capture(file)])
      #expect(r.capture.durationSeconds > 290, "\(file)")
      #expect(r.miningHosts.isEmpty && r.hosts.isEmpty, "\(file)")
      let named = try scan([Paths.capture(file)])
      #expect(named.miningHosts.isEmpty, "\(file)")
    }
  }

  typealias Gaps = TLSRhythm.Gaps

  func tlsFlow(_ w: PcapWriter, client: String, server: String, _ records: [(Double, Bool, Int)]) {
    TLSRhythm.flow(w, client: Peer(client, 50000), server: Peer(server, 443), startNs: Self.t0, records)
  }

  func minerRecords(seed: UInt64, submits: Int, mean: Double, submit: Int, answer: Int, push: Int) -> [(
    Double, Bool, Int
  )] {
    TLSRhythm.minerRecords(
      seed: seed, submits: submits, mean: mean, submit: submit, answer: answer, push: push)
  }

  @Test func forgedMinersAreFoundWhateverTheirSizes() throws {
    let r = try scanForged("rhythm-miners.pcap") { w in
      tlsFlow(
        w, client: "10.35.0.1", server: "198.51.100.70",
        minerRecords(seed: 1, submits: 60, mean: 8, submit: 244, answer: 85, push: 430))
      // Another pool, another TLS version: other sizes, the same rhythm.
      tlsFlow(
        w, client: "10.35.0.2", server: "198.51.100.71",
        minerRecords(seed: 2, submits: 40, mean: 12, submit: 330, answer: 120, push: 900))
    }
    for (ip, shares) in [("10.35.0.1", 60), ("10.35.0.2", 40)] {
      let s = try #require(r.host(ip)?.sessions.first, "\(ip)")
      #expect(s.finding == .encryptedPattern && s.sharesSubmitted == shares, "\(ip)")
    }
  }

  @Test func lookAlikesStaySilent() throws {
    let r = try scanForged("rhythm-decoys.pcap") { w in
      // Telemetry on a timer (MQTT QoS 1 over TLS): request/answer pairs of a miner's sizes, but
      // every 5 s exactly.
      var telemetry: [(Double, Bool, Int)] = []
      for i in 0..<80 {
        telemetry.append((5 + Double(i) * 5, true, 244))
        telemetry.append((5 + Double(i) * 5 + 0.02, false, 85))
      }
      for i in 0..<6 { telemetry.append((7.5 + Double(i) * 60, false, 430)) }
      tlsFlow(w, client: "10.35.1.1", server: "198.51.100.80", telemetry)
      // A miner's rhythm, but too short to judge (90 s).
      tlsFlow(
        w, client: "10.35.1.2", server: "198.51.100.81",
        minerRecords(seed: 3, submits: 30, mean: 3, submit: 244, answer: 85, push: 430))
      // Chat: messages of every size at random moments, few answers of a constant size.
      var g = Gaps(state: 4)
      var chat: [(Double, Bool, Int)] = []
      var t = 5.0
      for i in 0..<80 {
        t += g.next(mean: 6)
        chat.append((t, i % 3 != 0, 60 + (i * 37) % 900))
      }
      tlsFlow(w, client: "10.35.1.3", server: "198.51.100.82", chat)
      // A miner with no job pushes at all: not enough to say.
      tlsFlow(
        w, client: "10.35.1.4", server: "198.51.100.83",
        minerRecords(seed: 5, submits: 60, mean: 8, submit: 244, answer: 85, push: 430).filter {
          $0.1 || $0.2 < 400
        })
    }
    #expect(r.miningHosts.isEmpty, "\(r.miningHosts.map { "\($0.ip)" })")
  }

  /// Pushes that coincide with the job pushes of a readable Monero miner on the same network name
  /// the algorithm, hence the coin; pushes at other moments say nothing of it.
  @Test func pushesCoincidingWithReadableJobsNameTheCoin() throws {
    let blocks: [Double] = [40, 95, 170, 230, 300, 365]
    let r = try scanForged("rhythm-corroborated.pcap") { w in
      // A readable XMRig-style miner whose pool pushes a job at each new block.
      let plain = Conversation(
        writer: w, client: Peer("10.35.2.1", 41000), server: Peer("198.51.100.20", 3333), startNs: Self.t0)
      Scenarios.cryptoNoteJobPushes(plain, atSeconds: blocks)
      // Two encrypted miners: one whose pool pushes at those moments (+0.4 s), one at others.
      var same = minerRecords(seed: 6, submits: 60, mean: 6, submit: 244, answer: 85, push: 430).filter {
        $0.1 || $0.2 < 400
      }
      same += blocks.map { ($0 + 0.4, false, 430) }
      tlsFlow(w, client: "10.35.2.2", server: "198.51.100.95", same)
      tlsFlow(
        w, client: "10.35.2.3", server: "198.51.100.96",
        minerRecords(seed: 7, submits: 60, mean: 6, submit: 244, answer: 85, push: 430))
    }
    let corroborated = try #require(r.host("10.35.2.2")?.sessions.first)
    #expect(corroborated.finding == .encryptedPattern)
    #expect(
      corroborated.evidence.contains {
        $0.contains("6 of its last 6 pushes came within 2 s of job pushes to readable rx/0 miners")
      })
    #expect(corroborated.algorithm == "randomx" && corroborated.coin == "XMR")
    let alone = try #require(r.host("10.35.2.3")?.sessions.first)
    #expect(alone.finding == .encryptedPattern && alone.coin == nil)
    #expect(!alone.evidence.contains { $0.contains("job pushes to readable") })
  }

  /// Encrypted miners of one coin on different pools get their jobs at the same moments (each
  /// new block): their pushes coincide, which strengthens each finding, and once one pool is
  /// verified its algorithm names the others' coin. A suspect pushed at other moments gains
  /// nothing.
  @Test func pushesCoincidingAcrossSuspectsStrengthenEachOther() throws {
    var g = Gaps(state: 21)
    var blocks: [Double] = []
    var t = 20.0
    while t < 330 {
      t += g.next(mean: 50)
      blocks.append(t)
    }
    func miner(_ seed: UInt64, pushesAt: [Double]) -> [(Double, Bool, Int)] {
      minerRecords(seed: seed, submits: 60, mean: 6, submit: 244, answer: 85, push: 430).filter {
        $0.1 || $0.2 < 400
      } + pushesAt.map { ($0, false, 430) }
    }
    let path = Paths.scratch(UUID().uuidString + "-suspects.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    w.sortByTime = true
    tlsFlow(w, client: "10.35.4.1", server: "198.51.100.110", miner(31, pushesAt: blocks.map { $0 + 0.3 }))
    tlsFlow(w, client: "10.35.4.2", server: "198.51.100.111", miner(32, pushesAt: blocks.map { $0 + 0.9 }))
    tlsFlow(w, client: "10.35.4.3", server: "198.51.100.112", miner(33, pushesAt: blocks.map { $0 + 17 }))
    w.close()

    let r = try scan([path])
    for ip in ["10.35.4.1", "10.35.4.2"] {
      let s = try #require(r.host(ip)?.sessions.first, "\(ip)")
      #expect(s.finding == .encryptedPattern, "\(ip)")
      #expect(
        s.evidence.contains { $0.contains("pushes on 1 other encrypted flow(s) with a miner's rhythm") },
        "\(ip)")
      #expect(s.coin == nil, "\(ip)")  // one coin, but which is unknown
    }
    let alone = try #require(r.host("10.35.4.3")?.sessions.first)
    #expect(
      alone.finding == .encryptedPattern && !alone.evidence.contains { $0.contains("other encrypted flow") })

    // The first one's pool verified (a CryptoNote pool mining rx/0): the second's coin follows.
    let scanner = try Scanner(signatures: loadSignatures())
    let now = Date()
    scanner.pipeline.addVerified(
      PoolVerdict(
        ip: IPAddress("198.51.100.110")!, port: 443, status: .pool, family: .cryptonote, tls: true,
        reason: "answered the login with a job", algorithm: "rx/0", checkedAt: now,
        expiresAt: now.addingTimeInterval(3600), probes: []))
    let verified = try scanner.scan(files: [path])
    let second = try #require(verified.host("10.35.4.2")?.sessions.first)
    #expect(second.evidence.contains { $0.contains("one of which mines rx/0") })
    #expect(second.algorithm == "randomx" && second.coin == "XMR" && second.confidence == .medium)
    #expect(verified.host("10.35.4.1")?.sessions.first?.confidence == .high)
    #expect(verified.host("10.35.4.3")?.sessions.first?.coin == nil)
  }

  /// A gateway sees thousands of new TLS connections while a miner mines: the miner's answered
  /// pairs keep its rhythm record, the newcomers take each other's.
  @Test func aMinerKeepsItsRecordInACrowd() throws {
    let r = try scanForged("rhythm-crowd.pcap") { w in
      tlsFlow(
        w, client: "10.35.3.1", server: "198.51.100.97",
        minerRecords(seed: 8, submits: 60, mean: 6, submit: 244, answer: 85, push: 430))
      writeTLSHellos(
        w, count: 6_000, subnet: 37, server: "198.51.100.98", from: Self.t0, spacingNs: 60_000_000)
    }
    #expect((r.anomalies["rhythm_evicted"] ?? 0) > 1_000)
    let s = try #require(r.host("10.35.3.1")?.sessions.first)
    #expect(s.finding == .encryptedPattern && s.sharesSubmitted == 60)
  }
}
