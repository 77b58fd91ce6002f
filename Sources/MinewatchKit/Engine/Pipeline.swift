import Foundation
import MinewatchCore

/// The detection pipeline both `scan` and the daemon drive: the C engine, the name table it
/// matches against, the session tracker its events feed, and the host table ended sessions go
/// to. One thread drives it.
public final class Pipeline {
  public private(set) var signatures: Signatures
  public private(set) var names: NameTable
  public let tracker: SessionTracker
  /// Every host's state; scan report and daemon alerts read hosts from it (`host(_:)`).
  public let hosts: HostTable
  /// Told of each session as it ends, after the host table took it in (the daemon's alerts).
  public var onSessionEnd: ((MiningSession, ScanReport.Session) -> Void)?
  public let engine: CoreEngine
  public let limits: EngineLimits
  /// The site's own networks (proxy detection).
  public var internalNetworks = CIDR.privateRanges
  /// The organisation's units (hosts carry their unit; kinds read the asset class), and the
  /// tunnels that carry tenants' own address spaces (the engine keys flows and hosts by them).
  public private(set) var assets: AssetMap?

  public func useAssets(_ map: AssetMap?) throws {
    try engine.setTenants(map?.tenantRules ?? [])
    assets = map
  }
  /// How the kind of mining is judged; the ports go to the C core.
  public var kindRules = KindRules() {
    didSet { engine.setPortClasses(login: kindRules.loginPorts, probe: kindRules.probePorts) }
  }

  public init(signatures: Signatures, limits: EngineLimits = EngineLimits(), hosts: HostTable = HostTable())
    throws
  {
    self.signatures = signatures
    self.limits = limits
    self.hosts = hosts
    names = try signatures.nameTable()
    tracker = SessionTracker(signatures: signatures, names: names, maxSessions: limits.openSessions)
    tracker.maxLookupEntries = limits.lookups
    engine = try CoreEngine(config: limits, names: names, sink: tracker)
    engine.setPortClasses(login: kindRules.loginPorts, probe: kindRules.probePorts)
    tracker.activityLookup = { [unowned engine] in engine.hostActivity($0) }
    tracker.answeredNameLookup = { [unowned engine] in engine.answeredName($0) }
    tracker.positionLookup = { [unowned engine] in engine.position }
    tracker.onSessionEnd = { [unowned self] m in
      guard let r = self.report(m) else { return }
      self.hosts.sessionEnded(r)
      if let proxy = self.proxy(serving: r) {
        self.hosts.serves(proxy: proxy, client: r.clientIP, at: r.lastNs)
      }
      self.onSessionEnd?(m, r)
    }
    tracker.onAttempt = { [unowned self] m in
      guard let client = m.client, let server = m.server else { return }
      self.hosts.connectionFailed(host: client.ip, pool: server, at: m.stats?.firstNs ?? m.firstNs)
    }
    addListedAddresses()
  }

  /// A site-internal address serving stratum to another internal host is a mining proxy.
  private func proxy(serving r: ScanReport.Session) -> IPAddress? {
    r.finding == .stratum && builder.isInternal(r.poolIP) && builder.isInternal(r.clientIP) ? r.poolIP : nil
  }

  /// The sessions still open, as reported now: by host, and the internal clients each proxy
  /// serves through them.
  public struct OpenSessions {
    public var byHost: [IPAddress: [ScanReport.Session]] = [:]
    public var served: [IPAddress: Set<IPAddress>] = [:]
  }

  /// All of them, or (`involving`) only those with that address at either end: a session's
  /// alert needs its own host, and building every open session's report for it would cost a
  /// busy sensor dearly.
  public func openSessions(involving ip: IPAddress? = nil) -> OpenSessions {
    var out = OpenSessions()
    for m in tracker.openSessions where ip == nil || m.a.ip == ip || m.b.ip == ip {
      guard let r = report(m) else { continue }
      out.byHost[r.clientIP, default: []].append(r)
      if let p = proxy(serving: r) { out.served[p, default: []].insert(r.clientIP) }
    }
    return out
  }

  /// A host as known now: the host table's state with what is still open added.
  public func host(_ ip: IPAddress, open: OpenSessions? = nil) -> ScanReport.Host {
    let now = open ?? openSessions(involving: ip)
    return builder.host(ip, open: now.byHost[ip] ?? [], servedNow: now.served[ip] ?? [])
  }

  private func addListedAddresses() {
    for a in signatures.addresses { engine.addPoolAddress(a.ip, signature: a.domain) }
    for v in tracker.verified.values.flatMap(\.values) { engine.addPoolAddress(v.ip, signature: -1) }
  }

  /// An active verification's verdict: a pool's endpoint joins the pool-address table (source
  /// `verified`), so every host that talks to it is found, and the sessions open to it now
  /// take the verdict. Other verdicts change nothing.
  public func addVerified(_ v: PoolVerdict) {
    guard v.status == .pool else { return }
    tracker.addVerified(v)
    engine.addPoolAddress(v.ip, signature: -1)
  }

  /// Swaps in new signatures between two packets: the engine's name table and the tracker's
  /// entries change together, so name values always index the signatures in force.
  public func reload(_ new: Signatures) throws {
    let table = try new.nameTable()
    engine.setNames(table)
    tracker.replace(signatures: new, names: table)
    signatures = new
    names = table
    addListedAddresses()
  }

  /// Open sessions are sampled this often (packet time) for the host timelines.
  static let sampleStepNs: UInt64 = 10_000_000_000
  private var nextSampleNs: UInt64 = 0

  /// Whether sample points publish the tracker's notes (PushNotes); a sharded scan publishes
  /// all its trackers' together when every engine has reached the point.
  var publishesNotes = true

  /// Samples every open session's bytes and shares when due (and publishes the notes that
  /// compare flows); returns when it is next due.
  @discardableResult
  public func sampleTimelines() -> UInt64 {
    let now = engine.nowNs
    guard now > 0 else { return 1 }
    if nextSampleNs == 0 { nextSampleNs = now }
    guard now >= nextSampleNs else { return nextSampleNs }
    for m in tracker.openSessions { m.sample(at: now, stats: engine.stats(slot: m.slot, flow: m.flowID)) }
    if publishesNotes { tracker.publishNotes() }
    nextSampleNs = now + Self.sampleStepNs
    return nextSampleNs
  }

  /// Writes each finding's packets and their hashes (nil: no evidence kept).
  public private(set) var evidence: EvidenceRecorder?

  public func recordEvidence(_ settings: EvidenceSettings) throws {
    let recorder = try EvidenceRecorder(settings: settings, engine: engine)
    tracker.observer = recorder
    evidence = recorder
  }

  public var builder: ReportBuilder {
    ReportBuilder(
      tracker: tracker, hosts: hosts, names: names, internalNetworks: internalNetworks, assets: assets,
      rules: kindRules,
      activity: { [unowned engine] in engine.hostActivity($0) })
  }

  /// Bytes the miner has sent so far on a session's flow: the live counter, no report built.
  public func egressBytes(_ m: MiningSession) -> UInt64? {
    guard let client = m.client, let st = m.stats ?? engine.stats(slot: m.slot, flow: m.flowID) else {
      return nil
    }
    return client == m.a ? st.bytesFromA : st.bytesFromB
  }

  /// A session as reported now: an open one with its flow's statistics so far.
  public func report(_ m: MiningSession) -> ScanReport.Session? {
    builder.session(m, liveStats: m.stats == nil ? engine.stats(slot: m.slot, flow: m.flowID) : nil)
  }

  /// Ends every flow and builds the report of everything seen.
  public func finish(files: [String], warnings: [String]) -> ScanReport {
    finish(files: files, warnings: warnings, shards: [])
  }

  /// As `finish`, for a sharded scan whose other engines' pipelines are `shards` (made by
  /// `shard()`, each through with the files): every engine ends its flows, then the shards'
  /// hosts, lookups, counts and anomalies join this pipeline's, and one report is built.
  func finish(files: [String], warnings: [String], shards: [Pipeline]) -> ScanReport {
    let all = [self] + shards
    tracker.pushNotes.publish(all.map(\.tracker))
    for p in all {
      p.engine.flush()
      p.tracker.closeAll()
    }
    evidence?.finishAll()
    var packets: UInt64 = 0
    var bytes: UInt64 = 0
    var first = UInt64.max
    var last: UInt64 = 0
    for p in all {
      let c = p.engine.counters
      packets += c.packets
      bytes += c.bytes
      if c.packets > 0 && c.first_ns > 0 {
        first = min(first, c.first_ns)
        last = max(last, c.last_ns)
      }
    }
    for p in shards {
      hosts.absorb(p.hosts)
      tracker.absorbLookups(p.tracker)
    }
    // The trackers' and host tables' counts came with them; the engines' are added here.
    var anomalies = self.anomalies
    for p in shards { for (k, v) in p.engine.anomalies { anomalies[k, default: 0] += v } }
    let capture = ScanReport.Capture(
      files: files, packets: packets, bytes: bytes, startNs: first == .max ? 0 : first, endNs: last,
      warnings: warnings)
    var report = builder.build(capture: capture, anomalies: anomalies)
    report.assets = assets
    return report
  }

  /// Another engine's pipeline for a sharded scan: the same signatures, limits, site settings
  /// and verdicts, the engine's hash seed, the notes that compare flows shared; its own host
  /// table (joined at the end). Evidence is not recorded by shards.
  func shard(index: Int) throws -> Pipeline {
    let p = try Pipeline(
      signatures: signatures, limits: limits,
      hosts: HostTable(maxHosts: hosts.maxHosts, maxListed: hosts.maxListed))
    p.engine.shareSeed(with: engine)
    p.internalNetworks = internalNetworks
    try p.useAssets(assets)
    p.kindRules = kindRules
    for v in tracker.verified.values.flatMap(\.values) { p.addVerified(v) }
    p.tracker.pushNotes = tracker.pushNotes
    p.tracker.shardIndex = index
    p.publishesNotes = false
    return p
  }

  /// Every anomaly name the pipeline can count (the C core's, the session layer's, the host
  /// table's, the evidence recorder's), for exporters that show zeros before the first count.
  public static var anomalyNames: [String] {
    (0..<Int(MW_AN_COUNT.rawValue)).map { String(cString: mw_anomaly_name(mw_anomaly(UInt32($0)))) }
      + SessionTracker.Anomaly.allCases.map(\.rawValue) + HostTable.Anomaly.allCases.map(\.rawValue)
      + EvidenceRecorder.Anomaly.allCases.map(\.rawValue)
  }

  /// The engine's anomalies and the tracker's, by stable name.
  public var anomalies: [String: UInt64] {
    var all = engine.anomalies
    for (k, v) in tracker.counts { all[k, default: 0] += v }
    for (k, v) in hosts.counts { all[k, default: 0] += v }
    for (k, v) in evidence?.counts ?? [:] { all[k, default: 0] += v }
    return all
  }
}
