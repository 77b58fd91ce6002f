import CaptureForge
import Foundation
import MinewatchKit
import Testing

@testable import MinewatchDaemon

/// Scan and daemon read hosts through one host table: replaying a capture through the daemon
/// ends with the same hosts, roles, kinds, proxies and hashrates that `minewatch scan` reports.
@Suite struct ScanDaemonAgreementTests {
  /// A proxy serving two internal rigs while it mines upstream, and a miner that reconnects.
  static func forgedCampus() throws -> String {
    let path = Paths.scratch("campus-agreement.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    w.sortByTime = true
    let t0: UInt64 = 1_700_000_000_000_000_000
    for (i, rig) in ["10.20.0.11", "10.20.0.12"].enumerated() {
      let c = Conversation(
        writer: w, client: Peer(rig, UInt16(41000 + i)), server: Peer("10.20.0.2", 3333),
        startNs: t0 + UInt64(i) * 1_000_000)
      Scenarios.cryptoNote(c, login: "rig\(i)", shares: 20, interval: 6)
    }
    let up = Conversation(
      writer: w, client: Peer("10.20.0.2", 45000), server: Peer("198.51.100.20", 443), startNs: t0 + 5_000_000
    )
    Scenarios.cryptoNote(up, login: "proxy-upstream", shares: 40, interval: 3)
    var t = t0
    for round in 0..<3 {
      let c = Conversation(
        writer: w, client: Peer("10.20.0.30", UInt16(46000 + round)), server: Peer("198.51.100.21", 3333),
        startNs: t)
      Scenarios.stratum(c, login: "lab.rig\(round)", difficulty: 0.01, shares: 15, interval: 4)
      c.close()
      t = c.timeNs + 20_000_000_000
    }
    w.releaseHeld()
    w.close()
    return path
  }

  static let captures = [
    "miners/btc_sha256d_cpuminer_eth.pcap", "miners/ltc_scrypt_cpuminer_eth.pcap",
    "miners/xmr_rx0_plain_eth.pcap", "miners/xmr_rx0_tls_sni_eth.pcap",
    "miners/xmr_rx0_reconnect_seedchange_eth.pcap", "miners/xmr_rx0_tls_ip_only_eth.pcap",
    "public/ndpi_mining.pcapng",
    "public/zeekcm_coinhive-stratum.pcap", "public/zeekcm_bitcoin-mining-in-progress.pcap",
  ]

  @Test(arguments: captures + ["forged"])
  func scanAndDaemonAgree(capture: String) throws {
    let file = capture == "forged" ? try Self.forgedCampus() : Paths.capture(capture)
    let report = try Scanner(signatures: Signatures(directory: URL(fileURLWithPath: Paths.signatures)))
      .scan(files: [file])
    // ndpi_mining.pcapng holds sessions eleven months apart: a daemon keeping a day of hosts
    // would rightly have forgotten the first by the end.
    let alerts = try Daemon.replay(
      files: [file], config: config([("host_retention", "365d")]), keepAlerts: true)
    let final = alerts.filter { $0.kind == .hostTable && $0.json["final"] as? Bool == true }
    let scanned = report.hosts.filter { $0.role != .lookup }
    #expect(!scanned.isEmpty)
    #expect(Set(final.compactMap { $0.json["host"] as? String }) == Set(scanned.map { "\($0.ip)" }))
    for h in scanned {
      let a = try #require(final.first { $0.json["host"] as? String == "\(h.ip)" })
      #expect(a.json["role"] as? String == h.role.rawValue, "\(h.ip)")
      #expect(a.json["kind"] as? String == h.kind?.rawValue, "\(h.ip)")
      #expect(a.json["kind_reasons"] as? [String] == h.kindReasons, "\(h.ip)")
      #expect(a.json["clients_served"] as? [String] == h.clientsServed.map { "\($0)" }, "\(h.ip)")
      // Unwrapped before comparing: Testing's comparison of an Optional<Int> with a value trips
      // AddressSanitizer inside the Swift runtime (make test-sanitize).
      #expect((a.json["sessions_total"] as? Int ?? -1) == h.sessionsTotal, "\(h.ip)")
      #expect((a.json["shares"] as? Int ?? -1) == h.shares, "\(h.ip)")
      let rates = a.json["hashrate_hps_by_algorithm"] as? [String: Double] ?? [:]
      #expect(Set(rates.keys) == Set(h.hashrateByAlgorithm.keys), "\(h.ip)")
      for (algorithm, rate) in h.hashrateByAlgorithm {
        #expect(abs((rates[algorithm] ?? -1) - rate) <= 1e-9 * rate, "\(h.ip) \(algorithm)")
      }
      #expect(abs((a.json["mining_seconds"] as? Double ?? -1) - h.miningSeconds) < 1e-6, "\(h.ip)")
    }
    // Every session's start alert already carries its host's kind as the scan judged it.
    for start in alerts where start.kind == .sessionStart {
      let ip = start.json["host"] as? String
      let h = try #require(scanned.first { "\($0.ip)" == ip })
      #expect(start.json["kind"] as? String == h.kind?.rawValue, "\(ip ?? "?")")
    }
    // The final summary adds up the hosts that mined in its interval, with the scan's figures.
    let summary = try #require(alerts.last { $0.kind == .summary })
    let totals = summary.json["hashrate_hps_by_algorithm"] as? [String: Double] ?? [:]
    let since = summary.timeNs - UInt64((summary.json["interval_s"] as? Double ?? 0) * 1e9)
    var expected: [String: Double] = [:]
    for h in report.miningHosts where h.sessions.contains(where: { $0.lastNs >= since }) {
      expected.merge(h.hashrateByAlgorithm, uniquingKeysWith: +)
    }
    #expect(Set(totals.keys) == Set(expected.keys))
    for (algorithm, rate) in expected {
      #expect(abs((totals[algorithm] ?? -1) - rate) <= 1e-9 * rate, "\(algorithm)")
    }
  }
}

@Suite struct HostRetentionTests {
  /// A host idle past host_retention leaves the daemon's host table; with a longer retention
  /// it stays. Hostile durations are refused in one line.
  @Test func idleHostsAreForgottenAfterTheRetention() throws {
    let file = Paths.capture("public/ndpi_mining.pcapng")
    func finalHosts(_ retention: String) throws -> Set<String> {
      let alerts = try Daemon.replay(
        files: [file], config: config([("host_retention", retention), ("summary_interval", "60")]),
        keepAlerts: true)
      return Set(
        alerts.filter { $0.kind == .hostTable && $0.json["final"] as? Bool == true }
          .compactMap { $0.json["host"] as? String })
    }
    #expect(try finalHosts("24h") == ["192.168.2.92", "192.168.2.148"])
    #expect(try finalHosts("365d") == ["147.229.13.222", "192.168.2.92", "192.168.2.148"])
    for bad in ["0", "30s", "9999999999999999999d", "400d", "soon"] {
      #expect(throws: MinewatchError.self) { _ = try config([("host_retention", bad)]) }
    }
  }
}

@Suite struct LiveRhythmTests {
  /// An encrypted miner found by its rhythm is announced while its connection lasts, not when
  /// it ends: a sensor would otherwise say nothing of a connection that lasts for days.
  @Test func encryptedMinerIsAnnouncedWhileItMines() throws {
    let alerts = try Daemon.replay(
      files: [Paths.capture("miners/xmr_rx0_tls_ip_only_eth.pcap")],
      config: config([("summary_interval", "60")]),
      keepAlerts: true)
    let start = try #require(alerts.first { $0.kind == .sessionStart })
    let end = try #require(alerts.first { $0.kind == .sessionEnd })
    #expect(
      start.json["finding"] as? String == "encrypted-pattern" && start.json["host"] as? String == "10.31.7.40"
    )
    #expect(
      end.timeNs > start.timeNs + 200_000_000_000,
      "announced \((end.timeNs - start.timeNs) / 1_000_000_000) s before the end")
    #expect(
      (end.json["shares_submitted"] as? Int ?? 0) == 46 && end.json["shares_estimated"] as? Bool == true)
    // A summary while it mined already counts the host.
    let during = alerts.filter { $0.kind == .summary && $0.timeNs > start.timeNs && $0.timeNs < end.timeNs }
    #expect(during.contains { ($0.json["mining_hosts"] as? Int ?? 0) == 1 })
  }
}
