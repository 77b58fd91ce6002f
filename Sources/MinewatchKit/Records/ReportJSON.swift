import Foundation

/// The `--format json` document. Field names and meanings are documented in README.md
/// ("JSON schema"); unknown values are null, never guessed.
extension ScanReport {
  /// UTC with milliseconds, e.g. 2025-11-23T12:13:20.010Z. Formatted by hand: ICU's
  /// formatter costs more than the rest of a large report together.
  public static func iso8601(_ ns: UInt64) -> String {
    var t = time_t(ns / 1_000_000_000)
    var tm = tm()
    gmtime_r(&t, &tm)
    return String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
      tm.tm_min, tm.tm_sec, Int(ns % 1_000_000_000 / 1_000_000))
  }

  public static func orNull(_ v: Any?) -> Any { v ?? NSNull() }

  /// One session in the report's JSON form (the daemon's alerts use it too).
  public static func sessionJSON(_ s: Session) -> [String: Any] {
    [
      "finding": s.finding.rawValue, "confidence": s.confidence.rawValue,
      "miner": Self.orNull(s.miner), "miner_hardware": Self.orNull(s.minerHardware),
      "pool_ip": "\(s.poolIP)", "pool_port": Int(s.poolPort), "pool_name": Self.orNull(s.poolName),
      "pool_domain": Self.orNull(s.poolDomain), "client_port": Int(s.clientPort),
      "protocol": s.protocolVariant, "algorithm": Self.orNull(s.algorithm),
      "algorithm_variant": Self.orNull(s.algorithmVariant), "coin": Self.orNull(s.coin),
      "login": Self.orNull(s.login), "wallet": Self.orNull(s.wallet),
      "account": Self.orNull(s.account), "worker": Self.orNull(s.worker),
      "agent": Self.orNull(s.agent), "difficulty": Self.orNull(s.difficulty),
      "shares_submitted": s.sharesSubmitted, "shares_accepted": s.sharesAccepted,
      "shares_rejected": s.sharesRejected, "hashrate_hps": Self.orNull(s.hashrate?.rate),
      "hashrate_low_hps": Self.orNull(s.hashrate?.low),
      "hashrate_high_hps": Self.orNull(s.hashrate?.high),
      "hashrate_note": Self.orNull(s.hashrateNote),
      "power_w": Self.orNull(s.power?.watts), "power_w_low": Self.orNull(s.power?.low),
      "power_w_high": Self.orNull(s.power?.high),
      "reported_hashrate_hps": Self.orNull(s.reportedHashrate),
      "egress_bytes": s.egressBytes, "ingress_bytes": s.ingressBytes,
      "egress_packets": s.egressPackets, "ingress_packets": s.ingressPackets,
      "first_seen": Self.iso8601(s.firstNs), "last_seen": Self.iso8601(s.lastNs),
      "duration_s": Double(s.lastNs &- s.firstNs) / 1e9, "evidence": s.evidence,
      "evidence_pcap": s.evidenceFile.map { e -> [String: Any] in
        [
          "file": e.file, "sha256": e.sha256, "seq": e.seq, "packets": e.packets, "bytes": e.bytes,
          "chain": e.chain,
        ]
      } ?? NSNull(),
      "preceding_login": s.precedingLogin.map { l -> [String: Any] in
        ["peer": "\(l.peer)", "port": Int(l.port), "seconds_before": l.secondsBefore]
      } ?? NSNull(),
    ]
  }

  func hostJSON(_ h: Host) -> [String: Any] {
    var json = hostFields(h)
    if let assets {
      let e = assets.lookup(h.ip)
      json["unit"] = Self.orNull(e?.unit)
      json["unit_contact"] = Self.orNull(e?.contact)
      json["asset_class"] = Self.orNull(e?.kind)
    }
    return json
  }

  /// A host's figures and verdicts: the scan report's host and the daemon's host_table alert.
  public static func hostFiguresJSON(_ h: Host) -> [String: Any] {
    [
      "ip": "\(h.ip)", "role": h.role.rawValue, "egress_bytes": h.egressBytes,
      "ingress_bytes": h.ingressBytes, "egress_mbps": Self.orNull(h.egressMbps),
      "hashrate_hps": Self.orNull(h.hashrate), "hashrate_hps_by_algorithm": h.hashrateByAlgorithm,
      "estimates": h.estimates.sorted { $0.key < $1.key }.map { algorithm, e -> [String: Any] in
        ["algorithm": algorithm, "hashrate_hps": e.rate, "hashrate_low_hps": e.low, "hashrate_high_hps": e.high]
      },
      "shares": h.shares, "power_w": Self.orNull(h.power?.watts), "power_w_low": Self.orNull(h.power?.low),
      "power_w_high": Self.orNull(h.power?.high), "mining_seconds": h.miningSeconds,
      "failed_connections": h.failedConnections.map { f -> [String: Any] in
        [
          "count": f.count, "first_seen": Self.iso8601(f.firstNs), "last_seen": Self.iso8601(f.lastNs),
          "pools": f.pools,
        ]
      } ?? NSNull(),
      "sessions_total": h.sessionsTotal, "clients_served": h.clientsServed.map { "\($0)" },
      "confidence": h.confidence.rawValue, "findings": h.findings.map(\.rawValue),
      "miners": h.minerIdentities.count, "miner_identities": h.minerIdentities,
      "kind": Self.orNull(h.kind?.rawValue), "kind_reasons": h.kindReasons,
    ]
  }

  private func hostFields(_ h: Host) -> [String: Any] {
    var json = Self.hostFiguresJSON(h)
    json["sessions"] = h.sessions.map(Self.sessionJSON)
    json["timeline"] = h.timeline.map { p -> [String: Any] in
      ["t": Self.iso8601(p.ns), "egress_mbps": p.egressMbps, "hashrate_hps": Self.orNull(p.hashrate)]
    }
    json["lookups"] = h.lookups.map { l -> [String: Any] in
      [
        "name": l.name, "pool_name": Self.orNull(l.poolName), "class": l.kind, "coins": l.coins,
        "first_seen": Self.iso8601(l.firstNs), "last_seen": Self.iso8601(l.lastNs),
        "queries": l.queries,
      ]
    }
    return json
  }

  var captureJSON: [String: Any] {
    [
      "files": capture.files, "packets": capture.packets, "bytes": capture.bytes,
      "start": capture.packets > 0 ? Self.iso8601(capture.startNs) : NSNull(),
      "end": capture.packets > 0 ? Self.iso8601(capture.endNs) : NSNull(),
      "duration_s": capture.durationSeconds, "warnings": capture.warnings,
    ]
  }

  var totalsJSON: [String: Any] {
    [
      "hosts": miningHosts.count, "proxies": hosts(.proxy),
      "browser_miner_hosts": hosts(.browserMiner), "lookup_only_hosts": hosts(.lookup),
      "pools": pools.count, "sessions": miningHosts.reduce(0) { $0 + $1.sessions.count },
      "egress_bytes": egressBytesToPools, "egress_mbps": Self.orNull(egressMbps),
      "hashrate_hps_by_algorithm": hashrateByAlgorithm,
      "power_kw": power.watts / 1000, "power_kw_low": power.low / 1000, "power_kw_high": power.high / 1000,
      "energy_kwh_per_day": power.kWhPerDay, "energy_kwh_per_year": power.kWhPerYear,
      "coal_kg_per_day": power.kWhPerDay * factors.coalKgPerKWh,
      "co2_kg_per_day": power.kWhPerDay * factors.co2KgPerKWh,
      "energy_factors": ["coal_kg_per_kwh": factors.coalKgPerKWh, "co2_kg_per_kwh": factors.co2KgPerKWh],
    ]
  }

  public func jsonObject() -> [String: Any] {
    ["capture": captureJSON, "hosts": hosts.map(hostJSON), "totals": totalsJSON, "anomalies": anomalies]
  }

  /// The document in one piece (tests, the report command's input).
  public func jsonData() throws -> Data {
    var all = Data()
    writeJSON { all.append($0) }
    return all
  }

  /// The document, written a host at a time with a purpose-built writer (see JSONWriter) and
  /// handed out in pieces of about a megabyte: a report of 65,000 hosts never sits in memory whole.
  public func writeJSON(_ sink: (Data) -> Void) {
    var out: [UInt8] = []
    var head: [String: Any] = ["anomalies": anomalies, "capture": captureJSON, "totals": totalsJSON]
    if let assets { head["units"] = unitsJSON(assets) }
    JSONWriter.write(head, into: &out)
    out.removeLast(2)  // reopen the object after "totals": the hosts go last
    out.append(contentsOf: ",\n  \"hosts\" : [".utf8)
    for (i, h) in hosts.enumerated() {
      out.append(contentsOf: (i == 0 ? "\n    " : ",\n    ").utf8)
      JSONWriter.write(hostJSON(h), into: &out, indent: 4)
      if out.count >= 1 << 20 {
        sink(Data(out))
        out.removeAll(keepingCapacity: true)
      }
    }
    out.append(contentsOf: (hosts.isEmpty ? "]\n}" : "\n  ]\n}").utf8)
    sink(Data(out))
  }

}
