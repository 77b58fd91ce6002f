import CaptureForge
import Foundation
import MinewatchKit
import Testing

@testable import MinewatchDaemon

/// The daemon's alerts, on packet time, from captures replayed through its pipeline.
@Suite struct ReplayAlertTests {
  func replay(_ files: [String], _ pairs: [(String, String)] = []) throws -> [Alert] {
    try Daemon.replay(
      files: files.map(Paths.capture), config: config([("summary_interval", "60")] + pairs), keepAlerts: true)
  }

  @Test func sessionSummariesAndEndOnPacketTime() throws {
    let alerts = try replay(["miners/btc_sha256d_cpuminer_eth.pcap"])
    let kinds = alerts.map(\.kind.rawValue)
    #expect(kinds.first == "session_start")
    // At shutdown: the sessions end, the final host table, then the final summary.
    #expect(kinds.suffix(3) == ["session_end", "host_table", "summary"])
    let summaries = alerts.filter { $0.kind == .summary }
    #expect(summaries.count == 5)  // four whole minutes of 270 s, then the final one
    #expect(summaries.map { $0.json["final"] as? Bool } == [false, false, false, false, true])
    // On a one-minute grid of packet time (each fires at the first packet past its minute),
    // whatever the replay's speed.
    let first = summaries[0].timeNs
    for (i, s) in summaries.dropLast().enumerated() {
      let offset = Double(s.timeNs - first) / 1e9 - Double(i) * 60
      #expect(offset >= -10 && offset < 10, "summary \(i) at +\(offset) s off its minute")
    }
    for s in summaries {
      #expect(s.json["mining_hosts"] as? Int == 1 && s.json["pools"] as? Int == 1)
      let rates = s.json["hashrate_hps_by_algorithm"] as? [String: Double] ?? [:]
      #expect(rates.keys.sorted() == ["sha256d"])
    }
    let start = try #require(alerts.first)
    #expect(start.json["host"] as? String == "10.31.7.23")
    #expect(start.json["pool_ip"] as? String == "203.0.113.50" && start.json["coin"] as? String == "BTC")
    #expect(start.json["login"] as? String == "mwlab.rig01" && start.json["confidence"] as? String == "high")
    let evidence = try #require(start.fields.first { $0.0 == "evidence" }?.1)
    #expect(evidence.hasPrefix("dns:stratum.braiins.com,method:mining.authorize"))
    let end = try #require(alerts.first { $0.kind == .sessionEnd })
    #expect(end.json["shares_submitted"] as? Int == 94 && end.json["shares_accepted"] as? Int == 94)
    let rate = try #require(end.json["hashrate_hps"] as? Double)
    #expect(abs(rate - 6.56e6) / 6.56e6 < 0.36)
    // Egress over the whole capture adds up across the summaries to the session's bytes.
    let egress = summaries.compactMap { $0.json["egress_bytes"] as? UInt64 }.reduce(0, +)
    #expect(egress == end.json["egress_bytes"] as? UInt64)
  }

  @Test func updatesOnlyWhenTheEstimateMovesMaterially() throws {
    let alerts = try replay(["miners/xmr_rx0_plain_eth.pcap"])
    let updates = alerts.filter { $0.kind == .hostUpdate }
    // 33 checks over 330 s; the estimate settles, so few are material.
    #expect(updates.count >= 1 && updates.count <= 6, "\(updates.count)")
    for pair in zip(updates.dropFirst(), updates) {
      let new = pair.0.json["hashrate_hps_by_algorithm"] as? [String: Double] ?? [:]
      let old = pair.1.json["hashrate_hps_by_algorithm"] as? [String: Double] ?? [:]
      for (k, v) in new { #expect(abs(v - (old[k] ?? 0)) / (old[k] ?? 1) > 0.25) }
    }
    let strict = try replay(["miners/xmr_rx0_plain_eth.pcap"], [("update_threshold", "5")])
    #expect(strict.filter { $0.kind == .hostUpdate }.count == 1)  // only the first estimate
  }

  @Test func everySessionStartsAndEnds() throws {
    let alerts = try replay(["public/ndpi_mining.pcapng", "miners/xmr_rx0_tls_sni_eth.pcap"])
    let starts = alerts.filter { $0.kind == .sessionStart }
    let ends = alerts.filter { $0.kind == .sessionEnd }
    #expect(starts.count == 5 && ends.count == 5)
    #expect(
      Set(starts.compactMap { $0.json["host"] as? String }) == [
        "147.229.13.222", "192.168.2.92", "192.168.2.148", "10.31.7.26",
      ])
    let tls = try #require(starts.first { $0.json["host"] as? String == "10.31.7.26" })
    #expect(
      tls.json["finding"] as? String == "pool-connection" && tls.json["pool_name"] as? String == "SupportXMR")
  }

  @Test func decoysRaiseNothing() throws {
    let alerts = try replay([
      "public/ndpi_jsonrpc.pcap", "public/ndpi_bitcoin.pcap", "public/ndpi_monero.pcap",
      "public/peafowl_ethereum-js-http.pcap",
    ])
    #expect(alerts.allSatisfy { $0.kind == .summary })
    #expect(alerts.allSatisfy { $0.json["mining_hosts"] as? Int == 0 })
  }

  @Test func replayIsDeterministicAndWritesJSONLines() throws {
    let log1 = Paths.scratch("a.jsonl")
    let log2 = Paths.scratch("b.jsonl")
    for log in [log1, log2] {
      try Daemon.replay(
        files: [Paths.capture("miners/ltc_scrypt_cpuminer_eth.pcap")],
        config: config([("summary_interval", "60"), ("json_log", log)]))
    }
    let a = try String(contentsOfFile: log1, encoding: .utf8)
    #expect(a == (try String(contentsOfFile: log2, encoding: .utf8)))
    let lines = a.split(separator: "\n")
    #expect(lines.count >= 6)
    for l in lines {
      let obj = try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any]
      #expect(obj?["event"] is String && obj?["time"] is String)
    }
  }
}

@Suite struct InternalNetworksTests {
  /// A rig mining through a stratum proxy inside the site.
  func proxyCapture() throws -> String {
    let path = Paths.scratch("proxy.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    let c = Conversation(
      writer: w, client: Peer("10.20.0.11", 41000), server: Peer("10.20.0.2", 3333),
      startNs: 1_700_000_000_000_000_000)
    Scenarios.cryptoNote(c, login: "rig1", shares: 3, interval: 5)
    w.close()
    return path
  }

  @Test func configuredNetworksDecideWhetherThePoolIsInternal() throws {
    let file = try proxyCapture()
    let inside = try Daemon.replay(files: [file], config: config([]), keepAlerts: true)
    #expect(inside.first { $0.kind == .sessionStart }?.json["pool_internal"] as? Bool == true)
    let start = try #require(inside.first { $0.kind == .sessionStart })
    #expect(start.fields.contains { $0 == ("pool_internal", "true") })
    // A site whose networks are only 192.168.0.0/16: 10.20.0.2 is an outside pool.
    let outside = try Daemon.replay(
      files: [file], config: config([("internal_networks", "192.168.0.0/16")]), keepAlerts: true)
    #expect(outside.first { $0.kind == .sessionStart }?.json["pool_internal"] as? Bool == false)
  }
}

@Suite struct ReplayMetricsTests {
  @Test func egressBitsCounterAddsUpToTheSessionsBytes() throws {
    let metrics = DaemonMetrics()
    let alerts = try Daemon.replay(
      files: [Paths.capture("miners/btc_sha256d_cpuminer_eth.pcap")],
      config: config([("summary_interval", "60")]),
      keepAlerts: true, metrics: metrics)
    let end = try #require(alerts.first { $0.kind == .sessionEnd })
    let egress = try #require(end.json["egress_bytes"] as? UInt64)
    let text = String(decoding: metrics.exposition(), as: UTF8.self)
    let line = try #require(
      text.split(separator: "\n").first { $0.hasPrefix("minewatch_egress_bits_to_pools_total ") })
    #expect(line == "minewatch_egress_bits_to_pools_total \(egress * 8)")
    #expect(
      text.contains("minewatch_sessions_started_total 1") && text.contains("minewatch_sessions_ended_total 1")
    )
  }
}

/// The site's settings in the daemon: units, kinds, energy and evidence in the alerts.
@Suite struct SiteAlertTests {
  @Test func alertsCarryUnitKindEnergyAndEvidence() throws {
    let assets = Paths.scratch("assets.csv")
    try "10.31.7.0/24,Physics lab,lab-it@example.edu,servers\n".write(
      toFile: assets, atomically: true, encoding: .utf8)
    let evidence = Paths.scratch("evidence")
    let alerts = try Daemon.replay(
      files: [Paths.capture("miners/xmr_rx0_plain_eth.pcap")],
      config: config([
        ("summary_interval", "60"), ("assets", assets), ("evidence_dir", evidence),
        ("evidence_packets", "16"),
        ("evidence_lines", "4"), ("coal_kg_per_kwh", "0.5"),
      ]), keepAlerts: true)
    let start = try #require(alerts.first { $0.kind == .sessionStart })
    #expect(start.json["unit"] as? String == "Physics lab")
    #expect(start.json["unit_contact"] as? String == "lab-it@example.edu")
    #expect(start.json["asset_class"] as? String == "servers")
    // A server mining RandomX: the CPU sign.
    #expect(start.json["kind"] as? String == "hijacked")
    #expect(start.fields.contains { $0 == ("kind", "hijacked") })
    #expect(start.fields.contains { $0 == ("unit", "Physics lab") })

    // The evidence alert names the file and its digest, which the file on disk matches.
    let e = try #require(alerts.first { $0.kind == .evidence })
    let file = try #require(e.json["file"] as? String)
    #expect(e.json["packets"] as? Int == 20)
    #expect(SHA256.hex(ofFile: evidence + "/" + file) == e.json["sha256"] as? String)
    let end = try #require(alerts.first { $0.kind == .sessionEnd })
    #expect(end.json["evidence_sha256"] as? String == e.json["sha256"] as? String)
    #expect(try EvidenceLog.verify(directory: evidence).problems.isEmpty)

    // Summaries carry power and energy with the configured coal factor, and hosts by unit.
    let final = try #require(alerts.last { $0.kind == .summary })
    let kwh = try #require(final.json["energy_kwh_per_day"] as? Double)
    let watts = try #require(end.json["power_w"] as? Double)
    #expect(abs(kwh - watts * 24 / 1000) < 1e-9)
    #expect(abs((final.json["coal_kg_per_day"] as? Double ?? -1) - kwh * 0.5) < 1e-12)
    #expect(final.json["mining_hosts_by_unit"] as? [String: Int] == ["Physics lab": 1])
  }

  @Test func siteKeysAreCheckedLikeTheRest() throws {
    var c = DaemonConfig()
    #expect(throws: MinewatchError.self) { try c.set("probe_targets", "0") }
    #expect(throws: MinewatchError.self) { try c.set("login_ports", "22,ssh") }
    #expect(throws: MinewatchError.self) { try c.set("research_classes", "a b") }
    try c.set("login_window", "5m")
    #expect(c.site.kind.loginWindowSeconds == 300)
    try c.set("evidence_max_mib", "10")
    #expect(c.site.evidence.maxTotalBytes == 10 << 20)
  }
}

/// `minewatch report` from the daemon's JSON log.
@Suite struct DaemonLogReportTests {
  @Test func theLogBecomesAPageWithUnitsTimelinesAndEvidence() throws {
    let assets = Paths.scratch("assets.csv")
    try "10.31.7.0/24,Physics lab,lab-it@example.edu,labs\n".write(
      toFile: assets, atomically: true, encoding: .utf8)
    let log = Paths.scratch("alerts.json")
    _ = try Daemon.replay(
      files: [Paths.capture("miners/xmr_rx0_plain_eth.pcap")],
      config: config([
        ("summary_interval", "60"), ("assets", assets), ("json_log", log),
        ("evidence_dir", Paths.scratch("evidence")),
      ]), keepAlerts: false)
    let page = try ReportPage(contentsOf: log)
    let host = try #require(page.hosts.first)
    #expect(page.hosts.count == 1 && host.ip == "10.31.7.25")
    #expect(host.unit == "Physics lab" && host.kind == "active")
    #expect(host.coins == ["XMR"])
    // host_update alerts are the timeline: each a point with the rate the alert stated.
    #expect(host.points.count >= 2)
    #expect(host.points.allSatisfy { $0.hashrate != nil })
    #expect(page.units.map(\.name) == ["Physics lab"] && page.units[0].hosts == 1)
    #expect(page.evidence.count == 1 && page.evidence[0].host == "10.31.7.25")
    #expect(page.kWhPerDay > 0 && page.totalsNote.hasPrefix("mean of "))
    let html = page.html()
    #expect(html.contains("<tr class=\"host\" id=\"host-10.31.7.25\">"))
    #expect(html.contains("<polyline class=\"series\""))
  }
}

/// A feed wrapped in something minewatch does not read is not a quiet campus: the summary says
/// how many packets it could not decode and warns when they are most of the interval.
@Suite struct UndecodableFeedTests {
  @Test func aSummaryWarnsWhenMostPacketsCannotBeDecoded() throws {
    let path = Paths.scratch("undecodable.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    let t0: UInt64 = 1_763_900_000 * 1_000_000_000
    let inner: [UInt8] = Encapsulation.outerMACs + [0x08, 0x00] + Array(repeating: 0x45, count: 40)
    for i in 0..<300 {
      // GRE carrying a protocol no decoder knows (0x1234), then, later, ordinary UDP.
      let frame =
        i < 200
        ? Encapsulation.outerIPv4(proto: 47, payload: [0, 0, 0x12, 0x34] + inner)
        : Encapsulation.outerUDP(dport: 9999, payload: Array(repeating: 1, count: 20))
      w.write(frame: frame, timeNs: t0 + UInt64(i) * 1_000_000_000)
    }
    w.close()
    let alerts = try Daemon.replay(
      files: [path], config: config([("summary_interval", "60")]), keepAlerts: true)
    let summaries = alerts.filter { $0.kind == .summary }
    let first = try #require(summaries.first)
    let packets = try #require(first.json["packets"] as? Int)
    #expect(packets >= 60 && first.json["undecoded_packets"] as? Int == packets)
    #expect(
      (first.json["warning"] as? String)?.contains("\(packets) of the interval's \(packets) packets") == true)
    #expect(first.severity == .warning)
    #expect(first.fields.contains { $0.0 == "warning" })
    #expect(((first.json["anomalies"] as? [String: Any])?["unsupported_encapsulation"] as? Int ?? 0) >= 60)
    // Once the feed is ordinary UDP again, the summaries stop warning.
    let last = try #require(summaries.last)
    #expect(last.json["warning"] == nil && last.severity == .notice)
  }
}
