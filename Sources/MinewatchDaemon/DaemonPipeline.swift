import Foundation
import MinewatchKit

/// The daemon's judgement over the shared pipeline, on packet time: announces sessions,
/// reports material changes of a host's estimate (and suppresses the rest), ends sessions,
/// and writes a summary every interval. Driven by one thread: a live capture or a replayed file.
public final class DaemonPipeline {
  public let pipeline: Pipeline
  public let alerts: AlertDispatcher
  public let config: DaemonConfig
  let metrics: DaemonMetrics?
  /// The kernel's capture counters of each capture thread, when live.
  public var captureStats: (() -> [SummaryAlert.CaptureWorker]?)?
  /// Called with each summary's one-line status (systemd STATUS=).
  public var onStatus: ((String) -> Void)?

  private struct Announced {
    let host: IPAddress
    let pool: String
    let isPool: Bool
    var egressAtSummary: UInt64 = 0
    var egressInMetrics: UInt64 = 0
  }

  private var announced: [UInt32: Announced] = [:]
  private var interval = IntervalTotals()
  private var hostAlerted: [IPAddress: [String: Double]] = [:]
  private var nextTickNs: UInt64 = 0
  private var nextUpdateCheckNs: UInt64 = 0
  private var nextSummaryNs: UInt64 = 0
  private var intervalStartNs: UInt64 = 0
  private var lastDropped: UInt64 = 0
  private var lastAnomalies: [String: UInt64] = [:]
  private var lastPackets: UInt64 = 0
  private var lastDecoded: UInt64 = 0
  public private(set) var sessionsStarted = 0
  public private(set) var sessionsEnded = 0
  public private(set) var summaries = 0

  /// What the interval saw of ended sessions; the rates come from the host table.
  struct IntervalTotals {
    var egressBytes: UInt64 = 0
    var hosts: Set<IPAddress> = []
    var pools: Set<String> = []
  }

  static let tickNs: UInt64 = 1_000_000_000
  static let updateCheckNs: UInt64 = 10_000_000_000
  /// Shares needed before an estimate is worth an update alert (±33 % at 36 shares).
  static let updateMinShares = 10

  /// Active verification of suspect endpoints (config `verify`); nil when off.
  public let verifier: VerifyQueue?
  /// A replay waits for each verdict before its packets go on: live, a verdict comes within
  /// seconds, while a replay runs through minutes of packets in that time.
  public var waitsForVerdicts = false

  /// `log` takes every verification probe as it is made, and what goes wrong writing verdicts.
  public init(
    config: DaemonConfig, signatures: Signatures, alerts: AlertDispatcher, metrics: DaemonMetrics?,
    log: (@Sendable (String) -> Void)? = nil
  ) throws {
    self.config = config
    self.alerts = alerts
    self.metrics = metrics
    var limits = EngineLimits()
    limits.flowCapacity = config.flowCapacity
    config.site.apply(to: &limits)
    // A sensor runs for months: the hosts of its recent past, a bounded list of their sessions.
    pipeline = try Pipeline(
      signatures: signatures, limits: limits, hosts: HostTable(maxHosts: 65_536, maxListed: 16_384))
    if config.verify {
      let store = try VerdictStore(path: config.verifyVerdicts)
      var v = PoolVerifier(settings: config.verifySettings)
      v.onProbe = { ip, port, p in
        log?(
          "verification probe \(PoolVerdict.endpoint(ip, port)) \(p.family.rawValue)\(p.tls ? " over TLS" : ""): \(p.outcome), \(p.detail) (\(p.milliseconds) ms)"
        )
      }
      let queue = VerifyQueue(verifier: v, store: store)
      queue.onStoreError = { log?("verdict file not written: \($0)") }
      verifier = queue
      for verdict in store.all() { pipeline.addVerified(verdict) }
    } else {
      verifier = nil
    }
    pipeline.internalNetworks = config.internalNetworks
    try config.site.apply(to: pipeline)
    pipeline.evidence?.onRecord = { [unowned self] record, _ in self.evidenceWritten(record) }
    pipeline.onSessionEnd = { [unowned self] m, r in self.sessionEnded(m, r) }
    pipeline.engine.setDeadline(1)  // the first packet starts the clock
  }

  /// After each batch of packets or an idle tick: runs the timers whose packet time has come.
  public func afterBatch() {
    let now = pipeline.engine.nowNs
    guard now > 0, now >= nextTickNs else { return }
    tick(now)
  }

  /// Packet time now (for alerts that are not about one session).
  var nowNs: UInt64 { pipeline.engine.nowNs }

  private func tick(_ now: UInt64) {
    if nextSummaryNs == 0 {
      intervalStartNs = now
      nextSummaryNs = now + UInt64(config.summaryIntervalSeconds) * 1_000_000_000
      nextUpdateCheckNs = now + Self.updateCheckNs
    }
    pipeline.engine.expireIdle(buckets: 4096)
    pipeline.sampleTimelines()
    collectVerdicts()
    announceNew()
    if now >= nextUpdateCheckNs {
      checkHostUpdates(now)
      nextUpdateCheckNs = now + Self.updateCheckNs
    }
    alerts.drain()
    if now >= nextSummaryNs {
      summary(now, final: false)
      let step = UInt64(config.summaryIntervalSeconds) * 1_000_000_000
      while nextSummaryNs <= now { nextSummaryNs += step }  // an idle gap skips, not floods
    }
    nextTickNs = now + Self.tickNs
    pipeline.engine.setDeadline(nextTickNs)
  }

  /// A session read on the wire waits this long (packet time) for its login, so that its start
  /// alert names the wallet or worker; a miner sends it right after subscribing.
  static let loginWaitNs: UInt64 = 5_000_000_000

  private func announceNew() {
    for s in pipeline.tracker.openSessions where announced[s.flowID] == nil {
      guard let r = pipeline.report(s) else { continue }
      if r.finding == .stratum && r.login == nil && nowNs &- r.firstNs < Self.loginWaitNs { continue }
      announce(flow: s.flowID, r)
    }
    updateEgressMetrics()
  }

  /// An endpoint found only by its rhythm is asked, once, whether it is a pool.
  private func requestVerification(_ r: ScanReport.Session) {
    guard let verifier, r.finding == .encryptedPattern, r.confidence != .high,
      !config.verifyExclude.contains(where: { $0.contains(r.poolIP) })
    else { return }
    // A tenant's own internal address is not the sensor's to reach: the same digits here name
    // some other machine.
    if r.poolIP.tenant != 0 && pipeline.internalNetworks.contains(where: { $0.contains(r.poolIP) }) { return }
    verifier.request(
      r.poolIP.withoutTenant, port: r.poolPort, likelyTLS: r.protocolVariant == "tls",
      serverName: r.poolDomain)
  }

  /// Verdicts reached since the last tick: pools join the pipeline (and every host talking to
  /// them becomes a finding); each verdict, with every probe made, is an alert.
  private func collectVerdicts() {
    guard let verifier else { return }
    if waitsForVerdicts { verifier.waitIdle(timeoutSeconds: 120) }
    for v in verifier.take() {
      pipeline.addVerified(v)
      metrics?.verified(v.status.rawValue)
      alerts.send(
        Alert(
          kind: .verify, severity: v.status == .pool ? .warning : .notice, timeNs: nowNs, body: v,
          keys: ["ip", "port", "status", "family", "tls", "reason", "algorithm", "difficulty", "expires_at"]))
    }
  }

  private func announce(flow: UInt32, _ r: ScanReport.Session) {
    requestVerification(r)
    let isPool = r.isPoolSession
    announced[flow] = Announced(host: r.clientIP, pool: "\(r.poolIP)", isPool: isPool)
    sessionsStarted += 1
    metrics?.sessionsStarted.increment()
    alerts.send(
      Alert(
        kind: .sessionStart, severity: .warning, timeNs: max(nowNs, r.firstNs), body: sessionAlert(r),
        keys: [
          "host", "pool_ip", "pool_port", "pool_internal", "pool_name", "pool_domain", "protocol", "coin",
          "algorithm",
          "login",
          "wallet", "account", "worker", "agent", "miner", "finding", "confidence", "evidence", "difficulty",
          "first_seen", "unit", "unit_contact", "asset_class", "kind", "kind_reasons", "tunnel",
        ]))
  }

  private func evidenceWritten(_ e: EvidenceRecord) {
    alerts.send(
      Alert(
        kind: .evidence, severity: .notice, timeNs: nowNs, body: EvidenceAlert(e),
        keys: ["host", "pool", "file", "sha256", "seq", "chain", "packets", "bytes"]))
  }

  /// The unit an address belongs to (nil without an asset map).
  private func unitFields(_ ip: IPAddress) -> UnitFields? {
    pipeline.assets.map { $0.fields(ip) }
  }

  private func sessionAlert(_ r: ScanReport.Session) -> SessionAlert {
    // The kind is the host's, judged from everything the host table knows of it so far.
    let host = pipeline.host(r.clientIP)
    // A pool inside the site's own networks is a mining proxy serving this host.
    return SessionAlert(
      session: SessionRecord(r), host: "\(r.clientIP)", poolInternal: pipeline.builder.isInternal(r.poolIP),
      kind: host.kind?.rawValue, kindReasons: host.kindReasons, evidenceFile: r.evidenceFile?.file,
      evidenceSha256: r.evidenceFile?.sha256, unit: unitFields(r.clientIP))
  }

  private func sessionEnded(_ s: MiningSession, _ r: ScanReport.Session) {
    if announced[s.flowID] == nil { announce(flow: s.flowID, r) }  // never an end without a start
    guard let a = announced.removeValue(forKey: s.flowID) else { return }
    sessionsEnded += 1
    metrics?.sessionsEnded.increment()
    if a.isPool {
      interval.egressBytes += r.egressBytes &- a.egressAtSummary
      interval.hosts.insert(a.host)
      interval.pools.insert(a.pool)
      metrics?.egressBits.increment(by: Int64((r.egressBytes &- a.egressInMetrics) * 8))
    }
    alerts.send(
      Alert(
        kind: .sessionEnd, severity: .info, timeNs: r.lastNs, body: sessionAlert(r),
        keys: [
          "host", "pool_ip", "pool_port", "pool_name", "protocol", "coin", "algorithm", "login", "worker",
          "shares_submitted", "shares_accepted", "shares_rejected", "hashrate_hps", "hashrate_low_hps",
          "hashrate_high_hps", "reported_hashrate_hps", "power_w", "egress_bytes", "ingress_bytes",
          "first_seen",
          "last_seen", "duration_s", "unit", "kind", "evidence_file", "evidence_sha256",
        ]))
  }

  /// Open pool sessions as reported now, with their announcement.
  private func openPoolSessions() -> [(UInt32, ScanReport.Session)] {
    pipeline.tracker.openSessions.compactMap { s in
      guard let a = announced[s.flowID], a.isPool, let r = pipeline.report(s) else { return nil }
      return (s.flowID, r)
    }
  }

  /// Bits to pools for the Prometheus counter, every tick: from the flows' live counters
  /// (building each session's report here would cost far more than the counter is worth).
  private func updateEgressMetrics() {
    guard let metrics else { return }
    for s in pipeline.tracker.openSessions {
      guard let a = announced[s.flowID], a.isPool, let egress = pipeline.egressBytes(s),
        egress > a.egressInMetrics
      else { continue }
      metrics.egressBits.increment(by: Int64((egress - a.egressInMetrics) * 8))
      announced[s.flowID]!.egressInMetrics = egress
    }
  }

  /// Hosts with open pool sessions as the host table sees them now, with the Mbps their open
  /// sessions send.
  private func hostsNow() -> [(ScanReport.Host, mbps: Double)] {
    let now = pipeline.openSessions()
    return now.byHost.compactMap { ip, open in
      let pool = open.filter(\.isPoolSession)
      guard !pool.isEmpty else { return nil }
      let mbps = pool.reduce(0.0) { sum, r in
        let seconds = Double(r.lastNs &- r.firstNs) / 1e9
        return seconds > 0 ? sum + Double(r.egressBytes) * 8 / seconds / 1e6 : sum
      }
      return (pipeline.host(ip, open: now), mbps)
    }
  }

  private func checkHostUpdates(_ now: UInt64) {
    for (h, mbps) in hostsNow() where h.shares >= Self.updateMinShares && !h.estimates.isEmpty {
      let host = h.ip
      let rates = h.hashrateByAlgorithm
      let before = hostAlerted[host] ?? [:]
      let material = rates.contains { algo, rate in
        guard let old = before[algo], old > 0 else { return true }
        return abs(rate - old) / old > config.updateThreshold
      }
      guard material else { continue }
      hostAlerted[host] = rates
      let body = HostUpdateAlert(
        host: "\(host)", hashrateHpsByAlgorithm: rates, previousHashrateHpsByAlgorithm: before,
        egressMbps: mbps,
        powerW: h.power?.watts, miningSeconds: h.miningSeconds, unit: unitFields(host))
      alerts.send(
        Alert(
          kind: .hostUpdate, severity: .notice, timeNs: now, body: body,
          keys: [
            "host", "hashrate_hps_by_algorithm", "previous_hashrate_hps_by_algorithm", "egress_mbps",
            "power_w", "mining_seconds", "unit",
          ]))
    }
  }

  /// The periodic summary (and the final one at shutdown).
  public func summary(_ now: UInt64, final: Bool) {
    var totals = interval
    for (flow, r) in openPoolSessions() {
      let a = announced[flow]!
      totals.egressBytes += r.egressBytes &- a.egressAtSummary
      announced[flow]!.egressAtSummary = r.egressBytes
      totals.hosts.insert(r.clientIP)
      totals.pools.insert("\(r.poolIP)")
    }
    // Rates and power are the hosts' own (never a sum over a host's sessions); proxies are left
    // out, as in the scan's totals, since their clients are counted.
    var rates: [String: Double] = [:]
    var power = PowerEstimate.zero
    let open = pipeline.openSessions()
    for ip in totals.hosts {
      let h = pipeline.host(ip, open: open)
      guard h.role == .miner else { continue }
      rates.merge(h.hashrateByAlgorithm, uniquingKeysWith: +)
      if let p = h.power { power = power + p }
    }
    updateEgressMetrics()
    let seconds = max(Double(now &- intervalStartNs) / 1e9, 1)
    let mbps = Double(totals.egressBytes) * 8 / seconds / 1e6
    var anomalies = pipeline.anomalies
    if let refused = verifier?.refused, refused > 0 { anomalies["verify_queue_full"] = refused }
    if alerts.jsonWriteFailures > 0 { anomalies["json_log_write_failed"] = UInt64(alerts.jsonWriteFailures) }
    var body = SummaryAlert(
      intervalS: seconds, miningHosts: totals.hosts.count, pools: totals.pools.count,
      egressBytes: totals.egressBytes, egressMbps: mbps, hashrateHpsByAlgorithm: rates,
      sessionsActive: announced.count, sessionsStartedTotal: sessionsStarted,
      sessionsEndedTotal: sessionsEnded,
      lookupHosts: pipeline.tracker.lookupHosts, alertsQueued: alerts.queued, alertsDropped: alerts.dropped,
      final: final, powerKw: power.watts / 1000, powerKwLow: power.low / 1000, powerKwHigh: power.high / 1000,
      energyKwhPerDay: power.kWhPerDay, coalKgPerDay: power.kWhPerDay * config.site.factors.coalKgPerKWh,
      co2KgPerDay: power.kWhPerDay * config.site.factors.co2KgPerKWh, miningHostsByUnit: nil,
      anomalies: anomalies)
    let c = pipeline.engine.counters
    let packets = c.packets &- lastPackets
    let undecoded = packets &- min(packets, (c.ipv4 + c.ipv6) &- lastDecoded)
    body.packets = packets
    body.undecodedPackets = undecoded
    lastPackets = c.packets
    lastDecoded = c.ipv4 + c.ipv6
    if packets >= 50 && undecoded * 2 > packets {  // an idle link's few frames say nothing
      body.warning =
        "\(undecoded) of the interval's \(packets) packets could not be decoded (see anomalies): is the feed wrapped in a format minewatch does not read?"
    }
    if let assets = pipeline.assets {
      var units: [String: Int] = [:]
      for h in totals.hosts { units[assets.lookup(h)?.unit ?? "(no unit)", default: 0] += 1 }
      body.miningHostsByUnit = units
    }
    var keys = [
      "interval_s", "mining_hosts", "pools", "egress_mbps", "hashrate_hps_by_algorithm", "sessions_active",
      "sessions_started_total", "sessions_ended_total", "lookup_hosts", "alerts_queued", "alerts_dropped",
      "power_kw", "energy_kwh_per_day", "coal_kg_per_day", "co2_kg_per_day", "mining_hosts_by_unit",
    ]
    if let workers = captureStats?() {
      let recv = workers.reduce(0) { $0 + $1.received }
      let drop = workers.reduce(0) { $0 + $1.dropped }
      // The interface's own drop counter, which every worker's handle reads alike: not a sum.
      let ifdrop = workers.map(\.ifDropped).max() ?? 0
      if workers.count > 1 {
        body.captureWorkers = workers
        metrics?.captureWorkers(workers)
      }
      body.captureReceived = recv
      body.captureDropped = drop
      body.captureIfDropped = ifdrop
      keys += ["capture_received", "capture_dropped", "capture_if_dropped"]
      if body.captureWorkers != nil { keys.append("capture_workers") }
      metrics?.capture(received: recv, dropped: drop, ifDropped: ifdrop)
      if drop + ifdrop > lastDropped {
        alerts.send(
          Alert(
            kind: .captureDrops, severity: .warning, timeNs: now,
            body: CaptureDropsAlert(
              captureDropped: drop, captureIfDropped: ifdrop, droppedSinceLast: drop + ifdrop - lastDropped),
            keys: ["capture_dropped", "capture_if_dropped", "dropped_since_last"]))
        lastDropped = drop + ifdrop
      }
    }
    keys += ["packets", "undecoded_packets", "warning", "anomalies", "final"]
    alerts.send(
      Alert(
        kind: .summary, severity: body.warning == nil ? .notice : .warning, timeNs: now, body: body,
        keys: keys))
    metrics?.summary(
      hosts: totals.hosts.count, pools: totals.pools.count, rates: rates, active: announced.count,
      powerW: power.watts)
    metrics?.anomalies(anomalies, since: lastAnomalies)
    lastAnomalies = anomalies
    summaries += 1
    let rateText = rates.sorted { $0.key < $1.key }.map { "\($0.key) \(Units.rate($0.value))" }
      .joined(separator: ", ")
    onStatus?(
      "\(totals.hosts.count) mining hosts, \(totals.pools.count) pools, \(Units.mbps(mbps)) to pools"
        + (rateText.isEmpty ? "" : ", \(rateText)"))
    interval = IntervalTotals()
    intervalStartNs = now
    pipeline.tracker.forgetReported()
    // Update baselines only for hosts still mining: the table follows the open sessions.
    let active = Set(announced.values.map(\.host))
    hostAlerted = hostAlerted.filter { active.contains($0.key) }
    let retention = UInt64(config.hostRetentionSeconds) * 1_000_000_000
    if now > retention {
      pipeline.hosts.forget(idleBefore: now - retention, except: Set(open.byHost.keys))
    }
  }

  /// SIGUSR1: the current per-host table, one alert per host with open sessions; at shutdown
  /// (`all`), every host the table holds: the same figures and verdicts a scan reports.
  @discardableResult
  public func writeHostTable(all: Bool = false) -> [Alert] {
    let open = pipeline.openSessions()
    let ips = all ? Set(pipeline.hosts.entries.keys).union(open.byHost.keys) : Set(open.byHost.keys)
    var out: [Alert] = []
    for ip in ips.sorted() {
      let h = pipeline.host(ip, open: open)
      let body = HostTableAlert(
        figures: HostFigures(h), host: "\(ip)",
        pools: Set(h.sessions.map { "\($0.poolIP):\($0.poolPort)" }).sorted(),
        logins: Array(Set(h.sessions.compactMap(\.login))).sorted(), final: all, unit: unitFields(ip))
      let a = Alert(
        kind: .hostTable, severity: .info, timeNs: pipeline.engine.nowNs, body: body,
        keys: [
          "host", "role", "sessions_total", "pools", "egress_bytes", "hashrate_hps_by_algorithm", "shares",
          "mining_seconds", "failed_connections", "power_w", "clients_served", "logins", "unit", "kind",
          "kind_reasons", "final",
        ])
      alerts.send(a)
      out.append(a)
    }
    return out
  }

  /// Shutdown: every flow ends (session_end alerts), then the final summary.
  public func finish() {
    collectVerdicts()
    verifier?.stop()
    pipeline.engine.flush()
    pipeline.evidence?.finishAll()  // files of sessions the flush did not end are logged too
    writeHostTable(all: true)
    summary(max(pipeline.engine.nowNs, intervalStartNs), final: true)
  }

  /// SIGHUP: new signatures, atomically between two packets.
  public func reload(_ signatures: Signatures) throws {
    try pipeline.reload(signatures)
  }
}
