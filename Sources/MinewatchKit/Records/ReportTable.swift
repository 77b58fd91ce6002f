import Foundation

/// The readable report: per host, its sessions, then the totals.
extension ScanReport {
  /// 1 h 02 min, 5 min 25 s, 42 s.
  static func duration(_ seconds: Double) -> String {
    let t = Int(seconds.rounded())
    if t >= 3600 { return String(format: "%d h %02d min", t / 3600, t % 3600 / 60) }
    if t >= 60 { return "\(t / 60) min \(t % 60) s" }
    return "\(t) s"
  }

  private static func unit(_ algorithm: String?) -> String {
    algorithm == "equihash" ? "Sol/s" : "H/s"
  }

  /// The host's kind and why, and its unit when an asset map was given.
  private func kindLines(_ h: Host) -> [String] {
    var out: [String] = []
    if let assets, let t = assets.tenantName(h.ip) { out.append("  tenant  \(t)") }
    if let assets, let e = assets.lookup(h.ip) {
      out.append("  unit    \(e.unit) (\(e.kind))\(e.contact.map { ", contact \($0)" } ?? "")")
    }
    if let kind = h.kind {
      out.append("  kind    \(kind.rawValue.uppercased()): \(h.kindReasons.joined(separator: "; "))")
    }
    return out
  }

  public func table() -> String {
    var out: [String] = []
    let dur = String(format: "%.1f s", capture.durationSeconds)
    out.append(
      "capture: \(capture.files.joined(separator: ", ")): \(capture.packets) packets, "
        + "\(Units.bytes(capture.bytes)), \(dur)")
    for w in capture.warnings { out.append("warning: \(w)") }
    if hosts.isEmpty { out.append("\nno mining found") }
    for h in hosts {
      out.append("")
      if h.role == .lookup {
        out.append("host \(h.ip)  LOOKED UP POOL NAMES (no connection seen; confidence low)")
        for l in h.lookups {
          out.append(
            "  ? \(l.name)  (\(l.poolName ?? "-"), \(l.kind))  \(l.queries) quer\(l.queries == 1 ? "y" : "ies")"
          )
        }
        continue
      }
      if h.role == .proxy {
        out.append(
          "host \(h.ip)  MINING PROXY: serves stratum to \(h.clientsServed.map { "\($0)" }.joined(separator: ", "))"
        )
        out.append(contentsOf: kindLines(h))
        if h.sessions.isEmpty { continue }
      }
      let rate =
        h.estimates.isEmpty
        ? "unknown"
        : h.estimates.sorted { $0.key < $1.key }
          .map {
            let u = Self.unit($0.key)
            return "\(Units.rate($0.value.rate, unit: u)) \($0.key) (95% \(Units.rate($0.value.low, unit: u))"
              + " – \(Units.rate($0.value.high, unit: u)))"
          }.joined(separator: ", ")
      out.append(
        "host \(h.ip)  egress \(Units.bytes(h.egressBytes)) (\(h.egressMbps.map(Units.mbps) ?? "-"))  hashrate \(rate)"
      )
      if h.miningSeconds > 0 {
        out.append(
          "  mined   \(Self.duration(h.miningSeconds)) in \(h.sessionsTotal) session(s)"
            + (h.power.map { ", power \(Units.rate($0.watts, unit: "W"))" } ?? ""))
      }
      if let f = h.failedConnections {
        out.append(
          "  failed  \(f.count) connection(s) to \(f.pools.joined(separator: ", ")) never carried data"
            + " (\(ScanReport.iso8601(f.firstNs)) → \(ScanReport.iso8601(f.lastNs)))")
      }
      out.append(contentsOf: kindLines(h))
      if h.minerIdentities.count > 1 {
        out.append(
          "  \(h.minerIdentities.count) miners behind this address (NAT, or several rigs): \(h.minerIdentities.joined(separator: "; "))"
        )
      }
      for s in h.sessions {
        let u = Self.unit(s.algorithm)
        let pool = [s.poolName, s.poolDomain].compactMap { $0 }.joined(separator: " / ")
        out.append(
          "  → \(s.poolIP):\(s.poolPort)\(pool.isEmpty ? "" : "  (\(pool))")  \(s.protocolVariant)"
            + "  algo \(s.algorithm ?? "?")  coin \(s.coin ?? "?")" + (s.tunnel.map { "  via \($0)" } ?? ""))
        out.append(
          "    finding \(s.finding.rawValue), confidence \(s.confidence.rawValue): \(s.evidence.joined(separator: " "))"
        )
        if let login = s.login { out.append("    login   \(login)") }
        if s.wallet != nil || s.account != nil || s.worker != nil {
          out.append(
            "    \(s.wallet != nil ? "wallet" : "account") \(s.wallet ?? s.account ?? "-")  worker \(s.worker ?? "-")"
          )
        }
        if let agent = s.agent {
          out.append("    agent   \(agent)\(s.miner.map { "  (\($0), \(s.minerHardware ?? "?"))" } ?? "")")
        }
        out.append(
          "    shares  \(s.sharesSubmitted) submitted, \(s.sharesAccepted) accepted, \(s.sharesRejected) rejected"
            + (s.difficulty.map { "  (difficulty \(String(format: "%g", $0)))" } ?? ""))
        if let e = s.hashrate {
          out.append(
            "    rate    \(Units.rate(e.rate, unit: u))  (95% \(Units.rate(e.low, unit: u)) – \(Units.rate(e.high, unit: u)))"
          )
        } else {
          out.append("    rate    unknown (\(s.hashrateNote ?? "no estimate"))")
        }
        if let p = s.power {
          out.append(
            "    power   \(Units.rate(p.watts, unit: "W"))  (\(Units.rate(p.low, unit: "W")) – \(Units.rate(p.high, unit: "W")))"
          )
        }
        if let r = s.reportedHashrate {
          out.append("    stated  \(Units.rate(r, unit: u)) (reported by the miner)")
        }
        out.append(
          "    seen    \(Self.iso8601(s.firstNs)) → \(Self.iso8601(s.lastNs))  "
            + "up \(Units.bytes(s.egressBytes)) / down \(Units.bytes(s.ingressBytes))")
        if let e = s.evidenceFile {
          out.append("    pcap    \(e.file)  sha256 \(e.sha256)  (\(e.packets) packets, log #\(e.seq))")
        }
      }
    }
    out.append("")
    out.append(
      "totals: \(miningHosts.count) mining host(s), \(pools.count) pool(s), "
        + (hosts(.browserMiner) > 0 ? "\(hosts(.browserMiner)) browser-miner host(s), " : "")
        + (hosts(.lookup) > 0 ? "\(hosts(.lookup)) host(s) with pool lookups only, " : "")
        + "egress to pools \(egressMbps.map(Units.mbps) ?? "-")")
    let p = power
    if p.watts > 0 {
      out.append(
        "  power \(Units.rate(p.watts, unit: "W")) (\(Units.rate(p.low, unit: "W")) – \(Units.rate(p.high, unit: "W"))), "
          + String(
            format: "%.3g kWh/day, %.3g kg standard coal and %.3g kg CO2 a day", p.kWhPerDay,
            p.kWhPerDay * factors.coalKgPerKWh, p.kWhPerDay * factors.co2KgPerKWh))
    }
    for (algo, r) in hashrateByAlgorithm.sorted(by: { $0.key < $1.key }) {
      out.append("  \(algo): \(Units.rate(r, unit: Self.unit(algo)))")
    }
    if let assets {
      out.append("by unit:")
      for u in units(assets) {
        let rates = u.hashrateByAlgorithm.sorted { $0.key < $1.key }.map {
          "\($0.key) \(Units.rate($0.value, unit: Self.unit($0.key)))"
        }
        out.append(
          "  \(u.name)\(u.kind.map { " (\($0))" } ?? ""): \(u.hosts.count) host(s), \(u.pools.count) pool(s), coins \(u.coins.sorted().joined(separator: ",")), "
            + "\(mbps(u.egressBytes).map(Units.mbps) ?? "-"), \(rates.isEmpty ? "hashrate unknown" : rates.joined(separator: ", ")), "
            + String(format: "%.3g kWh/day", u.power.kWhPerDay))
      }
    }
    if !anomalies.isEmpty {
      out.append(
        "anomalies: "
          + anomalies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
    return out.joined(separator: "\n") + "\n"
  }
}
