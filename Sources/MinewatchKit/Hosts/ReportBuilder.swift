import Foundation

/// Resolves each session's pool, algorithm, coin and hashrate, and reads hosts out of the host
/// table.
public struct ReportBuilder {
  let tracker: SessionTracker
  let hosts: HostTable
  let names: NameTable?
  /// The site's own networks: an address inside them serving stratum to another is a proxy.
  let internalNetworks: [CIDR]
  let assets: AssetMap?
  let rules: KindRules
  let activity: (IPAddress) -> HostActivity?

  public init(
    tracker: SessionTracker, hosts: HostTable = HostTable(), names: NameTable?,
    internalNetworks: [CIDR] = CIDR.privateRanges,
    assets: AssetMap? = nil, rules: KindRules = KindRules(),
    activity: @escaping (IPAddress) -> HostActivity? = { _ in nil }
  ) {
    self.tracker = tracker
    self.hosts = hosts
    self.names = names
    self.internalNetworks = internalNetworks
    self.assets = assets
    self.rules = rules
    self.activity = activity
  }

  /// A host's kind of mining and the reasons, as of now.
  public func kind(of host: ScanReport.Host, servesOthers: Int = 0) -> (MiningKind, [String]) {
    KindJudge(rules: rules, signatures: signatures).judge(
      host: host, unit: assets?.lookup(host.ip), activity: activity(host.ip), servesOthers: servesOthers)
  }

  public func isInternal(_ ip: IPAddress) -> Bool { internalNetworks.contains { $0.contains(ip) } }

  private var signatures: Signatures { tracker.signatures }

  /// A host as known now: what the host table holds of it, with the sessions still open added.
  /// The one definition of a host's figures, role and kind, for the scan report and the daemon
  /// alike. Rates per algorithm are the hashes of all its sessions over the union of their
  /// spans: concurrent rigs behind one address add up, a reconnect does not.
  public func host(
    _ ip: IPAddress, open: [ScanReport.Session] = [], lookups: [ScanReport.Lookup] = [],
    servedNow: Set<IPAddress> = [], mbps: (UInt64) -> Double? = { _ in nil }
  ) -> ScanReport.Host {
    let entry = hosts.entries[ip] ?? HostTable.Entry()
    var work = entry.work
    var mining = entry.mining
    var egress = entry.egressBytes
    var ingress = entry.ingressBytes
    for s in open {
      work[s.algorithm ?? "unknown", default: HostTable.Work()].add(s)
      if s.isPoolSession {
        mining.insert(s.firstNs, s.lastNs)
        egress += s.egressBytes
        ingress += s.ingressBytes
      }
    }
    var estimates: [String: HashrateEstimate] = [:]
    var power: PowerEstimate?
    for (algorithm, w) in work {
      guard let e = HashrateEstimate.from(hashes: w.hashes, shares: w.shares, seconds: w.spans.seconds)
      else { continue }
      estimates[algorithm] = e
      if let eff = signatures.energy[algorithm] { power = (power ?? .zero) + PowerEstimate.from(e, eff) }
    }
    // A total order: sessions that began in the same instant (a capture's coarse timestamps)
    // must not list in the order they happened to end, which the flow table's random seed sets.
    let sessions = (entry.sessions + open).sorted {
      ($0.firstNs, $0.lastNs, $0.clientPort, $0.poolPort, $0.poolIP) < (
        $1.firstNs, $1.lastNs, $1.clientPort, $1.poolPort, $1.poolIP
      )
    }
    let served = entry.served.union(servedNow)
    var findings = Set(sessions.map(\.finding))
    if !lookups.isEmpty { findings.insert(.poolLookup) }
    let role: ScanReport.Role =
      !served.isEmpty
      ? .proxy
      : sessions.contains(where: \.isPoolSession)
        ? .miner : !sessions.isEmpty ? .browserMiner : entry.failed != nil ? .attempt : .lookup
    var h = ScanReport.Host(
      ip: ip, role: role, sessions: sessions, sessionsTotal: entry.sessionsEnded + open.count,
      egressBytes: egress, ingressBytes: ingress, egressMbps: mbps(egress), estimates: estimates,
      power: power, miningSeconds: mining.seconds, shares: work.values.reduce(0) { $0 + $1.shares },
      failedConnections: entry.failed,
      clientsServed: served.sorted(),
      confidence: role == .proxy ? .high : sessions.map(\.confidence).min() ?? .low,
      findings: findings.sorted(), lookups: lookups)
    if role != .lookup && role != .attempt {
      (h.kind, h.kindReasons) = kind(of: h, servesOthers: served.count)
    }
    return h
  }

  /// Every host of the table and every host that looked a pool name up, as of the end.
  func build(capture: ScanReport.Capture, anomalies: [String: UInt64]) -> ScanReport {
    var report = ScanReport(capture: capture, hosts: [], anomalies: anomalies)
    let lookups = lookupsByHost()
    for ip in Set(hosts.entries.keys).union(lookups.keys) {
      report.hosts.append(host(ip, lookups: lookups[ip] ?? [], mbps: report.mbps))
    }
    let grid = ScanReport.timelineGrid(
      startNs: capture.startNs, endNs: capture.endNs,
      points: ScanReport.timelinePoints(hosts: report.hosts.filter { $0.role == .miner }.count))
    for i in report.hosts.indices where report.hosts[i].role == .miner {
      report.hosts[i].timeline = ScanReport.timeline(
        sessions: report.hosts[i].sessions.map { ($0.samples, $0.hashesPerShare, $0.algorithm) }, grid: grid,
        startNs: capture.startNs)
    }
    report.hosts.sort { ($0.role.rawValue, $0.ip) < ($1.role.rawValue, $1.ip) }
    return report
  }

  /// Lookups of pool names by each host, website names left out.
  private func lookupsByHost() -> [IPAddress: [ScanReport.Lookup]] {
    var out: [IPAddress: [ScanReport.Lookup]] = [:]
    for (host, names) in tracker.lookups {
      out[host] = names.values.sorted { ($0.firstNs, $0.name) < ($1.firstNs, $1.name) }.map { l in
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

  /// Hashes per share at the difficulty a verification was given: the family's own measure
  /// (CryptoNote targets, ETH boundaries), or stratum's difficulty × the algorithm's multiplier.
  private func verifiedHashesPerShare(_ v: PoolVerdict, _ algorithm: String?) -> Double? {
    if let h = v.hashesPerShare { return h }
    guard let d = v.difficulty, let a = algorithm.flatMap({ signatures.algorithms[$0] }) else { return nil }
    switch a.unit {
    case .perDifficulty(let k): return d * k
    case .difficulty: return d
    case .target: return nil
    }
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
    } else if let answered = m.answeredNames[server.ip] {
      poolDomain = answered  // a name no signature lists: shown, not attributed
      evidence.insert("dns:" + answered)
    } else if let host = m.poolHost {
      poolDomain = host
      evidence.insert("subscribe-host:" + host)
    }
    var sig = domain(named: poolDomain).flatMap { $0.kind == .website ? nil : $0 }
    if sig == nil, let d = m.nameDomain, d.kind != .website {
      sig = d  // a listed pool address, or a name matched before a reload
    }
    // A pool confirmed by verification keeps the rhythm's finding, now certain.
    let byRhythm = m.rhythmVerdict != nil && (sig == nil || m.verified != nil)
    let finding: ScanReport.Finding =
      variant.isProtocol
      ? .stratum
      : byRhythm ? .encryptedPattern : sig?.kind == .browserMiner ? .browserMiner : .poolConnection
    if byRhythm, let v = m.rhythmVerdict { evidence.formUnion(v.reasons.map { "rhythm: " + $0 }) }
    // Encrypted shares: counted from the records' rhythm when nothing could be read.
    let estimatedShares = variant.isProtocol ? nil : m.rhythm.flatMap(RhythmJudge.submits)?.count
    // Both directions agreeing is the strongest evidence; one direction or a name is less.
    // A pool that answered a verification's login is certain.
    let confidence: ScanReport.Confidence =
      variant.isProtocol
      ? (m.sawClientLine && m.sawServerLine ? .high : .medium) : m.verified != nil ? .high : .medium
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
    if let n = estimatedShares, n > 0, let v = m.verified, let perShare = verifiedHashesPerShare(v, algorithm)
    {
      // The difficulty a verification was given is a new miner's: pools raise it per miner, so
      // the rate is a lower bound.
      estimate = HashrateEstimate.from(hashes: Double(n) * perShare, shares: n, seconds: window)
      note =
        "encrypted: \(n) shares estimated from the records' rhythm × the starting difficulty \(PoolVerdict.number(v.difficulty ?? perShare)) the pool gave a verification: a lower bound (pools raise a miner's difficulty)"
    } else if let n = estimatedShares {
      note = "encrypted: \(n) shares estimated from the records' rhythm; their difficulty is not visible"
    } else if !variant.isProtocol {
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
    var record = ScanReport.Session(
      finding: finding, confidence: confidence, clientIP: client.ip, clientPort: client.port,
      poolIP: server.ip, poolPort: server.port,
      poolName: sig?.pool, poolDomain: poolDomain, protocolVariant: variant.rawValue,
      algorithm: algorithm, algorithmVariant: m.algorithmHint, coin: coin, login: m.login,
      wallet: parts?.wallet, account: parts?.account, worker: parts?.worker ?? m.worker,
      agent: m.agent, miner: agent?.miner, minerHardware: agent?.hardware, difficulty: m.lastDifficulty,
      sharesSubmitted: estimatedShares ?? m.submitted,
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
      tunnel: stats?.tunnel, evidenceFile: m.evidenceRecord, samples: m.samples,
      hashes: estimate != nil ? hashes : nil,
      hashesPerShare: estimate != nil ? hashes.map { $0 / Double(m.submitted) } : nil)
    record.sharesEstimated = estimatedShares != nil
    return record
  }
}
