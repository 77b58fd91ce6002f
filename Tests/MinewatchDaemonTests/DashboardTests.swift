import Foundation
import Testing

@testable import MinewatchDaemon

/// The Grafana dashboard shipped in systemd/grafana: every expression in it names metrics, and
/// labels of them, that the daemon really exports.
enum DashboardCheck {
  static let path = Paths.repo.appendingPathComponent("systemd/grafana/minewatch-dashboard.json")

  /// Every PromQL expression of the dashboard: panel targets and template variable queries.
  static func expressions() throws -> [String] {
    let data = try Data(contentsOf: path)
    let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    var out: [String] = []
    for panel in doc["panels"] as? [[String: Any]] ?? [] {
      for t in panel["targets"] as? [[String: Any]] ?? [] { out.append(t["expr"] as? String ?? "") }
    }
    let vars = (doc["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
    for v in vars where v["type"] as? String == "query" {
      out.append(((v["query"] as? [String: Any])?["query"] as? String) ?? "")
    }
    return out
  }

  /// Metric name → the label names its samples carry, from a Prometheus text exposition.
  static func exported(_ exposition: String) -> [String: Set<String>] {
    var out: [String: Set<String>] = [:]
    for line in exposition.split(separator: "\n") {
      if line.hasPrefix("# TYPE ") {
        let name = String(line.split(separator: " ")[2])
        out[name, default: []].formUnion([])
        continue
      }
      guard !line.hasPrefix("#"), let nameEnd = line.firstIndex(where: { $0 == "{" || $0 == " " }) else {
        continue
      }
      let name = String(line[..<nameEnd])
      var labels: Set<String> = []
      if line[nameEnd] == "{", let close = line.lastIndex(of: "}") {
        for pair in line[line.index(after: nameEnd)..<close].split(separator: ",") {
          if let eq = pair.firstIndex(of: "=") { labels.insert(String(pair[..<eq])) }
        }
      }
      out[name, default: []].formUnion(labels)
    }
    return out
  }

  /// Series that only a daemon with fanout capture workers (`workers` above 1) exports.
  static let fanoutOnly = "minewatch_capture_worker_"

  /// What is wrong with the dashboard against what a daemon exports; empty when nothing.
  /// `fanout: false` leaves out the expressions of series only fanout workers export.
  static func problems(exposition: String, fanout: Bool = true) throws -> [String] {
    let metrics = exported(exposition)
    var problems: [String] = []
    let metricName = try Regex(#"minewatch_[a-z0-9_]+"#)
    let grouping = try Regex(#"by \(([a-z_, ]+)\)"#)
    let matcher = try Regex(#"([a-z_]+)=~?""#)
    for expr in try expressions() where fanout || !expr.contains(fanoutOnly) {
      let names = expr.matches(of: metricName).map { String(expr[$0.range]) }
      if names.isEmpty { problems.append("\(expr): names no minewatch metric") }
      var depth = 0
      for c in expr {
        if "({[".contains(c) { depth += 1 }
        if ")}]".contains(c) { depth -= 1 }
        if depth < 0 { break }
      }
      if depth != 0 { problems.append("\(expr): unbalanced brackets") }
      for name in names where metrics[name] == nil {
        problems.append("\(expr): \(name) is not exported")
      }
      // The labels it groups or filters by are labels those metrics carry.
      let carried = names.reduce(into: Set<String>()) { $0.formUnion(metrics[$1] ?? []) }
      var used: [String] = []
      for m in expr.matches(of: grouping) {
        used += expr[m.range].dropFirst(4).dropLast().split(separator: ",").map {
          $0.trimmingCharacters(in: .whitespaces)
        }
      }
      for m in expr.matches(of: matcher) {
        used.append(String(expr[m.range].prefix { $0 != "=" }))
      }
      for label in used where !carried.contains(label) {
        problems.append("\(expr): label \(label) is not on \(names)")
      }
    }
    return problems
  }
}

@Suite struct DashboardTests {
  /// Against the daemon's pipeline over a real miner's capture: every expression resolves, and
  /// the dashboard shows what the issue asks — mining hosts, Mbps to pools, hashrate per
  /// algorithm, power, drops — per sensor and summed.
  @Test func everyExpressionNamesAnExportedMetric() throws {
    let metrics = DaemonMetrics(sensor: "campus-gw1")
    _ = try Daemon.replay(
      files: [Paths.capture("miners/btc_sha256d_cpuminer_eth.pcap")],
      config: config([("summary_interval", "60")]), keepAlerts: true, metrics: metrics)
    let text = String(decoding: metrics.exposition(), as: UTF8.self)
    // A replay has no capture workers: their panel is checked against the live fanout daemon's
    // own exposition (FanoutLiveTests).
    #expect(try DashboardCheck.problems(exposition: text, fanout: false) == [])
    #expect(try DashboardCheck.problems(exposition: text).contains { $0.contains(DashboardCheck.fanoutOnly) })
    let exprs = try DashboardCheck.expressions().joined(separator: "\n")
    for needed in [
      "sum(minewatch_mining_hosts", "minewatch_egress_bits_to_pools_total",
      "sum by (algorithm) (minewatch_hashrate_hps",
      "sum(minewatch_power_watts", "minewatch_capture_packets_dropped",
      "minewatch_capture_packets_if_dropped",
      "sum by (sensor)",
    ] {
      #expect(exprs.contains(needed), "\(needed)")
    }
    // The figures behind it are there: one mining host, a sha256d rate, some power.
    #expect(text.contains(#"minewatch_mining_hosts{sensor="campus-gw1"} 1"#))
    #expect(text.contains(#"minewatch_hashrate_hps{sensor="campus-gw1",algorithm="sha256d"}"#))
    #expect(text.contains(#"minewatch_anomalies_total{sensor="campus-gw1",name="flow_table_eviction"} 0"#))
    // What one sensor costs a Prometheus (README, "A whole province"): ten gauges and counters,
    // one counter per anomaly name and per verdict, one gauge per algorithm being mined.
    let series = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
    #expect(DaemonMetrics.anomalyNames.count == 40)
    #expect(series.count == 10 + 40 + 3 + 1, "\(series)")
  }

  /// A dashboard naming a metric or a label the daemon does not have is caught.
  @Test func theCheckCatchesWhatIsNotExported() throws {
    let exposition = """
      # TYPE minewatch_mining_hosts gauge
      minewatch_mining_hosts{sensor="a"} 1
      """
    #expect(DashboardCheck.exported(exposition) == ["minewatch_mining_hosts": ["sensor"]])
    let problems = try DashboardCheck.problems(exposition: exposition)
    #expect(problems.contains { $0.contains("minewatch_hashrate_hps is not exported") })
    #expect(!problems.contains { $0.contains("minewatch_mining_hosts is not exported") })
  }
}
