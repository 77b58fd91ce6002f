import Foundation
import MinewatchCore

/// Told when a session becomes worth reporting and when it ends (evidence recording).
protocol SessionObserver: AnyObject {
  func sessionBecameReportable(_ s: MiningSession)
  func sessionEnded(_ s: MiningSession)
}

/// Turns the C core's events into sessions: one per mining flow, one per flow to a pool's name
/// or address that carries payload, plus the hosts' lookups of pool names. (Pool addresses from
/// DNS answers live in the C core.) Ended sessions and failed attempts go to the pipeline, which
/// keeps them per host. Bounded: at most `maxSessions` open at once, lookups capped; what does
/// not fit is counted.
public final class SessionTracker: CoreEventSink {
  /// The signatures in force; replaced on a reload together with the engine's name table, so
  /// the C core's name values always index these.
  public internal(set) var signatures: Signatures
  private(set) var names: NameTable?
  let maxSessions: Int
  private(set) var open: [UInt32: MiningSession] = [:]
  /// Called when a reportable session's flow ends.
  var onSessionEnd: ((MiningSession) -> Void)?
  /// Called when a connection to a pool ends without having carried payload.
  var onAttempt: ((MiningSession) -> Void)?
  public private(set) var counts: [String: UInt64] = [:]
  /// The C core's memory of a host's logins and probes, read when a session begins.
  var activityLookup: ((IPAddress) -> HostActivity?)?
  /// Names recent DNS answers gave for an address when no signature lists them.
  var answeredNameLookup: ((IPAddress) -> String?)?
  weak var observer: SessionObserver?

  public init(signatures: Signatures, names: NameTable? = nil, maxSessions: Int = 65536) {
    self.signatures = signatures
    self.names = names
    self.maxSessions = maxSessions
  }

  func replace(signatures: Signatures, names: NameTable) {
    self.signatures = signatures
    self.names = names
  }

  /// What the session layer bounds and counts, beside the C core's mw_anomaly (the same kind
  /// of stable names, reported together).
  public enum Anomaly: String, CaseIterable, Sendable {
    case sessionTableFull = "session_table_full"
    case lookupTableFull = "lookup_table_full"
    case pendingSharesEvicted = "pending_shares_evicted"
  }

  private func count(_ a: Anomaly, by n: UInt64 = 1) { counts[a.rawValue, default: 0] += n }

  private func session(flow: UInt32, slot: UInt32, a: Endpoint, b: Endpoint, at: UInt64) -> MiningSession? {
    if let s = open[flow] { return s }
    guard open.count < maxSessions else {
      count(.sessionTableFull)
      return nil
    }
    let s = MiningSession(flowID: flow, slot: slot, a: a, b: b, at: at)
    s.onJob = { [unowned self] label, ns in self.noteLater(.job(label: label, ns: ns)) }
    if let lookup = activityLookup {
      for ip in [a.ip, b.ip] { if let act = lookup(ip) { s.activityAtStart[ip] = act } }
    }
    // Read now: the answer may be overwritten or expire before the session ends.
    for ip in [a.ip, b.ip] { if let name = answeredNameLookup?(ip) { s.answeredNames[ip] = name } }
    open[flow] = s
    return s
  }

  private func domain(_ value: Int) -> Signatures.Domain? {
    value >= 0 && value < signatures.domains.count ? signatures.domains[value] : nil
  }

  public func handle(_ event: CoreEvent) -> Bool {
    let keep = dispatch(event)
    if let flow = event.flowID, let s = open[flow], !s.announced, s.reportable {
      s.announced = true
      observer?.sessionBecameReportable(s)
    }
    return keep
  }

  private func dispatch(_ event: CoreEvent) -> Bool {
    switch event {
    case .line(
      let flow, let slot, let at, let a, let b, let fromA, let method, let bytes, _, let fields, let http):
      guard let s = session(flow: flow, slot: slot, a: a, b: b, at: at) else { return true }
      s.apply(
        methodID: method, message: fields.map { MiningMessage(line: bytes, fields: $0) }, fromA: fromA, at: at
      )
      if let http { s.noteHTTP(http, fromA: fromA) }
      return true
    case .flowEnd(let flow, _, _, let stats):
      guard let s = open.removeValue(forKey: flow) else { return false }
      s.stats = stats
      s.firstNs = min(s.firstNs, stats.firstNs)
      s.lastNs = max(s.lastNs, stats.lastNs)
      if stats.carriedPayload { s.carriedPayload = true }
      if s.pendingEvicted > 0 { count(.pendingSharesEvicted, by: UInt64(s.pendingEvicted)) }
      observer?.sessionEnded(s)
      s.sample(at: stats.lastNs, stats: stats)
      if s.reportable {
        onSessionEnd?(s)
      } else if s.isAttempt {
        onAttempt?(s)
      }
      return false
    case .opaqueFlow(let flow, let slot, let at, let a, let b, let clientIsA, let rhythm, _):
      // While the flow lasts and when it ends. A session already open (a named pool's, or one
      // found by an earlier look) takes the newer figures; its FLOW_END ends it.
      if let s = open[flow] {
        s.rhythm = rhythm
        // A named or verified pool's flow keeps its rhythm's verdict too (reported when the
        // pool is verified: the rhythm found it).
        if let v = RhythmJudge.judge(rhythm) { corroborate(s, v) }
        s.lastNs = max(s.lastNs, at)
        return true
      }
      let server = clientIsA ? b : a
      if let v = verifiedPool(server), let s = session(flow: flow, slot: slot, a: a, b: b, at: rhythm.firstNs)
      {
        // A flow to a verified pool that began before the verdict came.
        attribute(s, to: v, clientIsA: clientIsA)
        s.rhythm = rhythm
        if let judged = RhythmJudge.judge(rhythm) { corroborate(s, judged) }
        s.variant = .tls
        s.carriedPayload = true
        s.lastNs = max(s.lastNs, at)
        return true
      }
      guard let verdict = RhythmJudge.judge(rhythm),
        let s = session(flow: flow, slot: slot, a: a, b: b, at: rhythm.firstNs)
      else { return false }
      s.forceClientIfUnknown(isA: clientIsA)
      s.rhythm = rhythm
      corroborate(s, verdict)
      s.variant = .tls
      s.carriedPayload = true
      s.lastNs = max(s.lastNs, at)
      return true  // kept: the flow's end brings its statistics
    case .flowData(let flow, let at):
      guard let s = open[flow] else { return false }
      s.carriedPayload = true
      s.lastNs = max(s.lastNs, at)
      return true
    case .dnsQuery(let at, let host, let name, let value):
      guard let d = domain(value), d.kind != .website else { return false }
      recordLookup(host: host, name: name, domain: d, at: at)
      return false
    case .poolFlow(let flow, let slot, let at, let a, let b, let clientIsA, let name, let value):
      // The name the host asked for may reach the pool's entry only through a CNAME chain, and
      // the engine's value may predate a reload: the name's own match first, then the value.
      let pool = clientIsA ? b.ip : a.ip
      var evidence: String
      let d: Signatures.Domain
      if !name.isEmpty, let i = names?.match(name) ?? (value >= 0 ? value : nil), i < signatures.domains.count
      {
        d = signatures.domains[i]
        evidence = "dns:" + name
      } else if let listed = signatures.addresses.first(where: { $0.ip == pool.withoutTenant }) {
        d = signatures.domains[listed.domain]
        evidence = "address:\(pool)"
      } else if let v = verifiedPool(clientIsA ? b : a) {
        guard let s = session(flow: flow, slot: slot, a: a, b: b, at: at) else { return false }
        attribute(s, to: v, clientIsA: clientIsA)
        return true
      } else {
        return false
      }
      guard d.kind != .website, let s = session(flow: flow, slot: slot, a: a, b: b, at: at) else {
        return false
      }
      s.nameDomain = s.nameDomain ?? d
      if !name.isEmpty { s.dnsName = name }
      s.forceClientIfUnknown(isA: clientIsA)
      s.evidence.insert(evidence)
      return true
    case .httpHost(let flow, let slot, let at, let a, let b, let fromA, let name, let value):
      guard let d = domain(value), d.kind != .website,
        let s = session(flow: flow, slot: slot, a: a, b: b, at: at)
      else { return false }
      s.nameDomain = d
      s.httpHost = name
      if s.variant == nil || s.variant == .unidentified { s.variant = .http }
      s.evidence.insert("http-host:" + name)
      s.forceClientIfUnknown(isA: fromA)
      return true
    case .tlsServerName(let flow, let slot, let at, let a, let b, let fromA, let name, let value):
      guard let d = domain(value), d.kind != .website,
        let s = session(flow: flow, slot: slot, a: a, b: b, at: at)
      else { return false }
      s.nameDomain = d
      s.markEncrypted(serverName: name, helloFromA: fromA)
      return true
    }
  }

  /// Endpoints an active verification found to be pools: flows to them are pool sessions
  /// (only on the verified port: a pool's address may also serve its website).
  private(set) var verified: [IPAddress: [UInt16: PoolVerdict]] = [:]

  /// Takes in a verdict; open sessions to the endpoint take it at once.
  func addVerified(_ v: PoolVerdict) {
    guard v.status == .pool else { return }
    verified[v.ip, default: [:]][v.port] = v
    for s in open.values {
      let ends = s.server.map { [$0] } ?? [s.a, s.b]
      guard let end = ends.first(where: { $0.ip.withoutTenant == v.ip && $0.port == v.port }) else {
        continue
      }
      attribute(s, to: v, clientIsA: end == s.b)
    }
  }

  /// The verdict in force for a server (one that has expired no longer attributes).
  private func verifiedPool(_ server: Endpoint) -> PoolVerdict? {
    guard let v = verified[server.ip.withoutTenant]?[server.port], v.expiresAt > Date() else { return nil }
    return v
  }

  private func attribute(_ s: MiningSession, to v: PoolVerdict, clientIsA: Bool) {
    s.verified = v
    s.nameDomain = s.nameDomain ?? signatures.verifiedDomain(v)
    if s.algorithmHint == nil, let a = v.algorithm { s.algorithmHint = a }
    s.forceClientIfUnknown(isA: clientIsA)
    s.evidence.insert(
      "verified:\(v.endpoint) (\(v.family?.rawValue ?? "pool")\(v.tls == true ? " over TLS" : ""): \(v.reason), \(v.checkedAtText))"
    )
  }

  /// Job pushes of readable miners by algorithm and pushes of the flows judged by rhythm, to
  /// compare encrypted flows' pushes with; shared by the trackers of a sharded scan.
  var pushNotes = PushNotes()
  /// Notes made since the last sample point (PushNotes.publish).
  var pendingNotes: [PushNotes.Pending] = []
  /// Where in the scan the engine is (the packet that makes a note).
  var positionLookup: (() -> UInt64)?
  /// This tracker's place among a sharded scan's (0 alone): flow ids are each engine's own.
  var shardIndex = 0

  private func noteLater(_ note: PushNotes.Note) {
    pendingNotes.append(PushNotes.Pending(position: positionLookup?() ?? 0, note: note))
  }

  /// Publishes this tracker's notes (a lone tracker: the daemon, a one-engine scan).
  func publishNotes() { pushNotes.publish([self]) }

  private func flowKey(_ flowID: UInt32) -> UInt64 { UInt64(shardIndex) << 32 | UInt64(flowID) }

  /// A verdict with what other flows say of it: pushes that coincide with readable miners' job
  /// pushes of one algorithm (a new block reaches every miner of a coin at once) strengthen it
  /// and name the algorithm, hence the coin.
  private func corroborate(_ s: MiningSession, _ verdict: RhythmJudge.Verdict) {
    var v = verdict
    let pushes = s.rhythm?.recentPushes.filter { $0.size >= RhythmJudge.minPushSize }.map(\.ns) ?? []
    if let c = pushNotes.jobs.coinciding(pushes) {
      v.reasons.append(
        "\(c.matched) of its last \(pushes.count) pushes came within 2 s of job pushes to readable \(c.label) miners"
      )
      let algorithm = ReportBuilder.canonicalAlgorithm(c.label)
      if signatures.algorithms[algorithm] != nil { s.algorithmHint = c.label }
    }
    if let c = pushNotes.suspects.coinciding(pushes, excluding: flowKey(s.flowID)) {
      // Other suspects pushed at the same moments: one coin's blocks, seen on several flows.
      var reason =
        "\(c.matched) of its last \(pushes.count) pushes came within 2 s of pushes on \(c.flows) other encrypted flow(s) with a miner's rhythm, to \(c.servers.count) server(s)"
      if let hint = c.hint {
        if s.algorithmHint == nil { s.algorithmHint = hint }
        reason += ", one of which mines \(hint)"
      }
      v.reasons.append(reason)
    }
    if let server = s.server {
      noteLater(.suspect(flow: flowKey(s.flowID), server: server, times: pushes, hint: s.algorithmHint))
    }
    s.rhythmVerdict = v
  }

  /// A host's lookups of pool names: the evidence left when no connection follows.
  struct Lookup {
    var name: String
    var domain: Signatures.Domain
    var firstNs: UInt64
    var lastNs: UInt64
    var queries: Int
  }

  private(set) var lookups: [IPAddress: [String: Lookup]] = [:]
  private var lookupEntries = 0
  /// At most this many (host, name) pairs, at most 8 names per host: spoofed queries from
  /// many sources cost a bounded table, and what does not fit is counted.
  var maxLookupEntries = 65536
  let maxLookupsPerHost = 8

  private func recordLookup(host: IPAddress, name: String, domain: Signatures.Domain, at: UInt64) {
    if var l = lookups[host]?[name] {
      l.queries += 1
      l.lastNs = max(l.lastNs, at)
      lookups[host]![name] = l
    } else if lookupEntries < maxLookupEntries && (lookups[host]?.count ?? 0) < maxLookupsPerHost {
      lookups[host, default: [:]][name] = Lookup(
        name: name, domain: domain, firstNs: at, lastNs: at, queries: 1)
      lookupEntries += 1
    } else {
      count(.lookupTableFull)
    }
  }

  /// Takes in another tracker's lookups (a sharded scan's other engines): a name both hold
  /// gets the sum of its queries and the wider span.
  func absorbLookups(_ other: SessionTracker) {
    for (k, v) in other.counts { counts[k, default: 0] += v }
    for (host, names) in other.lookups.sorted(by: { $0.key < $1.key }) {
      for (name, l) in names.sorted(by: { $0.key < $1.key }) {
        if var mine = lookups[host]?[name] {
          mine.queries += l.queries
          mine.firstNs = min(mine.firstNs, l.firstNs)
          mine.lastNs = max(mine.lastNs, l.lastNs)
          lookups[host]![name] = mine
        } else if lookupEntries < maxLookupEntries && (lookups[host]?.count ?? 0) < maxLookupsPerHost {
          lookups[host, default: [:]][name] = l
          lookupEntries += 1
        } else {
          count(.lookupTableFull)
        }
      }
    }
  }

  /// Hosts that looked pool names up since the last forgetReported().
  public var lookupHosts: Int { lookups.count }

  /// Forgets lookups already reported (the daemon, after each summary).
  public func forgetReported() {
    lookups.removeAll(keepingCapacity: true)
    lookupEntries = 0
  }

  /// Ends everything still open (the end of a capture): the engine's flush sends FLOW_END for
  /// each watched flow, and what is left had no statistics.
  func closeAll() {
    for (_, s) in open.sorted(by: { $0.key < $1.key }) where s.reportable {
      observer?.sessionEnded(s)
      onSessionEnd?(s)
    }
    open.removeAll()
  }
  /// Sessions still open that would be reported.
  public var openSessions: [MiningSession] {
    open.values.filter(\.reportable).sorted { $0.flowID < $1.flowID }
  }
}

extension MiningSession {
  /// A TLS flow named after a pool: the ClientHello sender is the miner.
  func markEncrypted(serverName: String, helloFromA: Bool) {
    sni = serverName
    if variant == nil || variant == .unidentified { variant = .tls }
    evidence.insert("sni:" + serverName)
    forceClientIfUnknown(isA: helloFromA)
  }
}
