import Foundation

/// Resolves each session's pool, algorithm, coin and hashrate, and groups sessions by host.
public struct ReportBuilder {
  let tracker: SessionTracker
  let names: NameTable?
  /// The site's own networks: an address inside them serving stratum to another is a proxy.
  let internalNetworks: [CIDR]
  let assets: AssetMap?
  let rules: KindRules
  let activity: (IPAddress) -> HostActivity?

  public init(
    tracker: SessionTracker, names: NameTable?, internalNetworks: [CIDR] = CIDR.privateRanges,
    assets: AssetMap? = nil, rules: KindRules = KindRules(),
    activity: @escaping (IPAddress) -> HostActivity? = { _ in nil }
  ) {
    self.tracker = tracker
    self.names = names
    self.internalNetworks = internalNetworks
    self.assets = assets
    self.rules = rules
    self.activity = activity
  }

  /// A host made of the given sessions, for judging it outside a full report (the daemon).
  public func host(_ ip: IPAddress, sessions: [ScanReport.Session]) -> ScanReport.Host {
    let pool = sessions.contains { $0.finding == .stratum || $0.finding == .poolConnection }
    return ScanReport.Host(
      ip: ip, role: pool ? .miner : sessions.isEmpty ? .lookup : .browserMiner, sessions: sessions,
      egressBytes: 0, ingressBytes: 0, egressMbps: nil, hashrate: nil, hashrateByAlgorithm: [:],
      clientsServed: [], confidence: .low, findings: [], lookups: [])
  }

  /// A host's kind of mining and the reasons, as of now.
  public func kind(of host: ScanReport.Host, servesOthers: Int = 0) -> (MiningKind, [String]) {
    KindJudge(rules: rules, signatures: signatures).judge(
      host: host, unit: assets?.lookup(host.ip), activity: activity(host.ip), servesOthers: servesOthers)
  }

  public func isInternal(_ ip: IPAddress) -> Bool { internalNetworks.contains { $0.contains(ip) } }

  private var signatures: Signatures { tracker.signatures }

  func build(capture: ScanReport.Capture, anomalies: [String: UInt64]) -> ScanReport {
    var sessions = tracker.sessions.compactMap { session($0) }
    sessions.sort { ($0.clientIP, $0.firstNs) < ($1.clientIP, $1.firstNs) }
    var report = ScanReport(capture: capture, hosts: [], anomalies: anomalies)
    var byHost: [IPAddress: [ScanReport.Session]] = [:]
    var served: [IPAddress: Set<IPAddress>] = [:]
    for s in sessions {
      byHost[s.clientIP, default: []].append(s)
      // A site-internal address serving stratum to another internal host is a mining proxy.
      if s.finding == .stratum && isInternal(s.poolIP) && isInternal(s.clientIP) {
        served[s.poolIP, default: []].insert(s.clientIP)
      }
    }
    let lookups = lookupsByHost()
    for ip in Set(byHost.keys).union(lookups.keys) {
      let list = byHost[ip] ?? []
      let egress = list.reduce(0) { $0 + $1.egressBytes }
      var byAlgorithm: [String: Double] = [:]
      for s in list {
        // CryptoNote shares count hashes whatever the algorithm, so a rate can be known
        // while the algorithm is not.
        if let r = s.hashrate?.rate { byAlgorithm[s.algorithm ?? "unknown", default: 0] += r }
      }
      let hostLookups = lookups[ip] ?? []
      var findings = Set(list.map(\.finding))
      if !hostLookups.isEmpty { findings.insert(.poolLookup) }
      let role: ScanReport.Role =
        list.contains { $0.finding == .stratum || $0.finding == .poolConnection }
        ? .miner : list.isEmpty ? .lookup : .browserMiner
      // Hashes of different algorithms do not add up: one figure only when there is one.
      report.hosts.append(
        ScanReport.Host(
          ip: ip, role: role, sessions: list, egressBytes: egress,
          ingressBytes: list.reduce(0) { $0 + $1.ingressBytes }, egressMbps: report.mbps(egress),
          hashrate: byAlgorithm.count == 1 ? byAlgorithm.values.first : nil,
          hashrateByAlgorithm: byAlgorithm, clientsServed: [],
          confidence: list.map(\.confidence).min() ?? .low, findings: findings.sorted(),
          lookups: hostLookups))
    }
    for (ip, clients) in served {
      report.hosts.append(
        ScanReport.Host(
          ip: ip, role: .proxy, sessions: [], egressBytes: 0, ingressBytes: 0, egressMbps: nil,
          hashrate: nil, hashrateByAlgorithm: [:], clientsServed: clients.sorted(),
          confidence: .high, findings: [.stratum], lookups: []))
    }
    let grid = ScanReport.timelineGrid(
      startNs: capture.startNs, endNs: capture.endNs,
      points: ScanReport.timelinePoints(hosts: report.hosts.filter { $0.role == .miner }.count))
    for i in report.hosts.indices where report.hosts[i].role == .miner {
      report.hosts[i].timeline = ScanReport.timeline(
        sessions: report.hosts[i].sessions.map { ($0.samples, $0.hashesPerShare, $0.algorithm) }, grid: grid,
        startNs: capture.startNs)
    }
    for i in report.hosts.indices where report.hosts[i].role != .lookup {
      let h = report.hosts[i]
      let served = h.role == .proxy ? h.clientsServed.count : (served[h.ip]?.count ?? 0)
      (report.hosts[i].kind, report.hosts[i].kindReasons) = kind(of: h, servesOthers: served)
    }
    report.hosts.sort { ($0.role.rawValue, $0.ip) < ($1.role.rawValue, $1.ip) }
    return report
  }

  /// Lookups of pool names by each host, website names left out.
  private func lookupsByHost() -> [IPAddress: [ScanReport.Lookup]] {
    var out: [IPAddress: [ScanReport.Lookup]] = [:]
    for (host, names) in tracker.lookups {
      out[host] = names.values.sorted { $0.firstNs < $1.firstNs }.map { l in
        let d = l.domain
        return ScanReport.Lookup(
          name: l.name, poolName: d.pool, kind: d.kind.rawValue, coins: d.coins, firstNs: l.firstNs,
          lastNs: l.lastNs, queries: l.queries)
      }
    }
    return out
  }

  private func domain(named name: String?) -> Signatures.Domain? {
    guard let name, let i = names?.match(name), i < signatures.domains.count else { return nil }
    return signatures.domains[i]
  }

  /// Maps a pool's algorithm label ("rx/0", "cn/r", "kawpow") onto the table's names.
  static func canonicalAlgorithm(_ hint: String) -> String {
    let h = hint.lowercased()
    if h.hasPrefix("rx/") || h == "randomx" { return "randomx" }
    if h.hasPrefix("cn") || h.hasPrefix("cryptonight") { return "cryptonight" }
    return h
  }

  /// One session as reported: with its flow's final statistics, or the live ones given (the
  /// daemon's open sessions).
  public func session(_ m: MiningSession, liveStats: FlowStats? = nil) -> ScanReport.Session? {
    guard let client = m.client, let server = m.server,
      let variant = m.variant ?? (m.nameDomain != nil ? .unidentified : nil)
    else { return nil }
    let stats = m.stats ?? liveStats
    let clientIsA = client == m.a
    let egress = stats.map { clientIsA ? $0.bytesFromA : $0.bytesFromB } ?? 0
    let ingress = stats.map { clientIsA ? $0.bytesFromB : $0.bytesFromA } ?? 0
    let first = stats?.firstNs ?? m.firstNs
    let last = stats?.lastNs ?? m.lastNs

    // Which pool: the TLS name, the DNS answer that gave this address, the host in the subscribe.
    var evidence = m.evidence
    var poolDomain: String?
    if let sni = m.sni {
      poolDomain = sni
    } else if let host = m.httpHost {
      poolDomain = host
    } else if let dns = m.dnsName {
      poolDomain = dns
    } else if let host = m.poolHost {
      poolDomain = host
      evidence.insert("subscribe-host:" + host)
    }
    var sig = domain(named: poolDomain).flatMap { $0.kind == .website ? nil : $0 }
    if sig == nil, let d = m.nameDomain, d.kind != .website {
      sig = d  // a listed pool address, or a name matched before a reload
    }
    let finding: ScanReport.Finding =
      variant.isProtocol ? .stratum : sig?.kind == .browserMiner ? .browserMiner : .poolConnection
    // Both directions agreeing is the strongest evidence; one direction or a name is less.
    let confidence: ScanReport.Confidence =
      variant.isProtocol ? (m.sawClientLine && m.sawServerLine ? .high : .medium) : .medium
    let agent = m.agent.flatMap { signatures.agent(for: $0) }

    var algorithm: String?
    if let hint = m.algorithmHint {
      algorithm = Self.canonicalAlgorithm(hint)
    } else if !variant.isProtocol {
      algorithm = nil  // only a name was seen: the coin is the pool's, the algorithm unknown
    } else if let coins = sig?.coins, coins.count == 1, let a = signatures.algorithm(forCoin: coins[0]) {
      algorithm = a.name
    } else {
      switch variant {
      case .ethereumStratum, .ethProxy: algorithm = "ethash"
      case .stratumEquihash: algorithm = "equihash"
      default: algorithm = nil
      }
    }
    var coin: String?
    if let coins = sig?.coins, coins.count == 1 {
      coin = coins[0]
    } else if let a = algorithm.flatMap({ signatures.algorithms[$0] }), a.coins.count == 1 {
      coin = a.coins[0]
    }

    // Hashes behind the submitted shares.
    var hashes: Double? = m.hashSum
    var note: String?
    if m.stratumDifficultySum > 0 {
      if let a = algorithm.flatMap({ signatures.algorithms[$0] }), case .perDifficulty(let k) = a.unit {
        hashes = m.hashSum + m.stratumDifficultySum * k
      } else {
        hashes = nil
        note = "algorithm unknown: a share's worth in hashes is unknown"
      }
    }
    let known = m.submitted - m.sharesOfUnknownWeight
    if let h = hashes, known > 0, m.sharesOfUnknownWeight > 0 {
      hashes = h / Double(known) * Double(m.submitted)  // shares before the first difficulty
    } else if known == 0 {
      hashes = nil
    }
    let window = Double(last &- first) / 1e9
    var estimate: HashrateEstimate?
    if !variant.isProtocol {
      note = variant == .tls ? "encrypted: shares are not visible" : "mining protocol not visible"
    } else if m.submitted == 0 {
      note = "no share seen"
    } else if hashes == nil, note == nil {
      note = "share difficulty not seen"
    } else if let h = hashes {
      estimate = HashrateEstimate.from(hashes: h, shares: m.submitted, seconds: window)
      if estimate == nil { note = "observed window under one second" }
    }
    let parts = m.login.map(LoginParser.split)
    // The latest login from outside the site shortly before the mining (logins from inside are
    // how the site's own staff work), from the snapshot taken when the session began and from
    // what the core remembers now.
    let logins = [m.activityAtStart[client.ip], activity(client.ip)].compactMap { $0?.logins }.joined()
    let precedingLogin =
      logins.filter {
        $0.ns <= first && Double(first - $0.ns) / 1e9 <= rules.loginWindowSeconds && !isInternal($0.peer)
      }
      .max { $0.ns < $1.ns }
      .map {
        ScanReport.PrecedingLogin(peer: $0.peer, port: $0.port, secondsBefore: Double(first - $0.ns) / 1e9)
      }
    return ScanReport.Session(
      finding: finding, confidence: confidence, clientIP: client.ip, clientPort: client.port,
      poolIP: server.ip, poolPort: server.port,
      poolName: sig?.pool, poolDomain: poolDomain, protocolVariant: variant.rawValue,
      algorithm: algorithm, algorithmVariant: m.algorithmHint, coin: coin, login: m.login,
      wallet: parts?.wallet, account: parts?.account, worker: parts?.worker ?? m.worker,
      agent: m.agent, miner: agent?.miner, minerHardware: agent?.hardware, difficulty: m.lastDifficulty,
      sharesSubmitted: m.submitted,
      sharesAccepted: m.accepted, sharesRejected: m.rejected, hashrate: estimate,
      power: estimate.flatMap { e in
        algorithm.flatMap { signatures.energy[$0] }.map { PowerEstimate.from(e, $0) }
      },
      hashrateNote: note,
      reportedHashrate: m.reportedRate,
      egressBytes: egress, ingressBytes: ingress,
      egressPackets: stats.map { clientIsA ? $0.packetsFromA : $0.packetsFromB } ?? 0,
      ingressPackets: stats.map { clientIsA ? $0.packetsFromB : $0.packetsFromA } ?? 0,
      firstNs: first, lastNs: last, evidence: evidence.sorted(), precedingLogin: precedingLogin,
      evidenceFile: m.evidenceRecord, samples: m.samples,
      hashesPerShare: estimate != nil ? hashes.map { $0 / Double(m.submitted) } : nil)
  }
}
