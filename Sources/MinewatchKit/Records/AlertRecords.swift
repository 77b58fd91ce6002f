import Foundation

/// What each daemon alert carries (schema: Tests/Fixtures/alerts.schema.json): written as JSON
/// lines and syslog structured data by the daemon, read back by `minewatch report`. Every alert
/// line also has `event` and `time` (see AlertLine).
public protocol AlertBody: Codable, Sendable {}

/// A session beginning or ending: the session as the scan reports it, with its host's verdict.
public struct SessionAlert: AlertBody, Equatable {
  public var session: SessionRecord
  public var host: String
  public var poolInternal: Bool
  @Nullable public var kind: String?
  public var kindReasons: [String]
  public var evidenceFile: String?
  public var evidenceSha256: String?
  public var unit: UnitFields?

  enum CodingKeys: String, CodingKey {
    case host, kind
    case poolInternal = "pool_internal"
    case kindReasons = "kind_reasons"
    case evidenceFile = "evidence_file"
    case evidenceSha256 = "evidence_sha256"
  }

  public init(
    session: SessionRecord, host: String, poolInternal: Bool, kind: String?, kindReasons: [String],
    evidenceFile: String?, evidenceSha256: String?, unit: UnitFields?
  ) {
    self.session = session
    self.host = host
    self.poolInternal = poolInternal
    self.kind = kind
    self.kindReasons = kindReasons
    self.evidenceFile = evidenceFile
    self.evidenceSha256 = evidenceSha256
    self.unit = unit
  }

  public init(from decoder: Decoder) throws {
    session = try SessionRecord(from: decoder)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    host = try c.decode(String.self, forKey: .host)
    poolInternal = try c.decodeIfPresent(Bool.self, forKey: .poolInternal) ?? false
    _kind = try c.decode(Nullable<String>.self, forKey: .kind)
    kindReasons = try c.decodeIfPresent([String].self, forKey: .kindReasons) ?? []
    evidenceFile = try c.decodeIfPresent(String.self, forKey: .evidenceFile)
    evidenceSha256 = try c.decodeIfPresent(String.self, forKey: .evidenceSha256)
    unit = try? UnitFields(from: decoder)
  }

  public func encode(to encoder: Encoder) throws {
    try session.encode(to: encoder)
    try unit?.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(host, forKey: .host)
    try c.encode(poolInternal, forKey: .poolInternal)
    try c.encode(_kind, forKey: .kind)
    try c.encode(kindReasons, forKey: .kindReasons)
    try c.encodeIfPresent(evidenceFile, forKey: .evidenceFile)
    try c.encodeIfPresent(evidenceSha256, forKey: .evidenceSha256)
  }
}

/// A host's estimate moved by more than the update threshold.
public struct HostUpdateAlert: AlertBody, Equatable {
  public var host: String
  public var hashrateHpsByAlgorithm: [String: Double]
  public var previousHashrateHpsByAlgorithm: [String: Double]
  public var egressMbps: Double
  @Nullable public var powerW: Double?
  public var miningSeconds: Double
  public var unit: UnitFields?

  enum CodingKeys: String, CodingKey {
    case host
    case hashrateHpsByAlgorithm = "hashrate_hps_by_algorithm"
    case previousHashrateHpsByAlgorithm = "previous_hashrate_hps_by_algorithm"
    case egressMbps = "egress_mbps"
    case powerW = "power_w"
    case miningSeconds = "mining_seconds"
  }

  public init(
    host: String, hashrateHpsByAlgorithm: [String: Double], previousHashrateHpsByAlgorithm: [String: Double],
    egressMbps: Double, powerW: Double?, miningSeconds: Double, unit: UnitFields?
  ) {
    self.host = host
    self.hashrateHpsByAlgorithm = hashrateHpsByAlgorithm
    self.previousHashrateHpsByAlgorithm = previousHashrateHpsByAlgorithm
    self.egressMbps = egressMbps
    self.powerW = powerW
    self.miningSeconds = miningSeconds
    self.unit = unit
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    host = try c.decode(String.self, forKey: .host)
    hashrateHpsByAlgorithm =
      try c.decodeIfPresent([String: Double].self, forKey: .hashrateHpsByAlgorithm) ?? [:]
    previousHashrateHpsByAlgorithm =
      try c.decodeIfPresent([String: Double].self, forKey: .previousHashrateHpsByAlgorithm) ?? [:]
    egressMbps = try c.decodeIfPresent(Double.self, forKey: .egressMbps) ?? 0
    _powerW = try c.decode(Nullable<Double>.self, forKey: .powerW)
    miningSeconds = try c.decodeIfPresent(Double.self, forKey: .miningSeconds) ?? 0
    unit = try? UnitFields(from: decoder)
  }

  public func encode(to encoder: Encoder) throws {
    try unit?.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(host, forKey: .host)
    try c.encode(hashrateHpsByAlgorithm, forKey: .hashrateHpsByAlgorithm)
    try c.encode(previousHashrateHpsByAlgorithm, forKey: .previousHashrateHpsByAlgorithm)
    try c.encode(egressMbps, forKey: .egressMbps)
    try c.encode(_powerW, forKey: .powerW)
    try c.encode(miningSeconds, forKey: .miningSeconds)
  }
}

/// A host as the host table holds it (SIGUSR1; every host at shutdown with `final`).
public struct HostTableAlert: AlertBody, Equatable {
  public var figures: HostFigures
  public var host: String
  public var pools: [String]
  public var logins: [String]
  public var final: Bool
  public var unit: UnitFields?

  enum CodingKeys: String, CodingKey { case host, pools, logins, final }

  public init(
    figures: HostFigures, host: String, pools: [String], logins: [String], final: Bool, unit: UnitFields?
  ) {
    self.figures = figures
    self.host = host
    self.pools = pools
    self.logins = logins
    self.final = final
    self.unit = unit
  }

  public init(from decoder: Decoder) throws {
    figures = try HostFigures(from: decoder)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    host = try c.decode(String.self, forKey: .host)
    pools = try c.decodeIfPresent([String].self, forKey: .pools) ?? []
    logins = try c.decodeIfPresent([String].self, forKey: .logins) ?? []
    final = try c.decodeIfPresent(Bool.self, forKey: .final) ?? false
    unit = try? UnitFields(from: decoder)
  }

  public func encode(to encoder: Encoder) throws {
    try figures.encode(to: encoder)
    try unit?.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(host, forKey: .host)
    try c.encode(pools, forKey: .pools)
    try c.encode(logins, forKey: .logins)
    try c.encode(final, forKey: .final)
  }
}

/// Every summary_interval of packet time, and at shutdown.
public struct SummaryAlert: AlertBody, Equatable {
  public var intervalS: Double
  public var miningHosts: Int
  public var pools: Int
  public var egressBytes: UInt64
  public var egressMbps: Double
  public var hashrateHpsByAlgorithm: [String: Double]
  public var sessionsActive: Int
  public var sessionsStartedTotal: Int
  public var sessionsEndedTotal: Int
  public var lookupHosts: Int
  public var alertsQueued: Int
  public var alertsDropped: Int
  public var final: Bool
  public var powerKw: Double
  public var powerKwLow: Double
  public var powerKwHigh: Double
  public var energyKwhPerDay: Double
  public var coalKgPerDay: Double
  public var co2KgPerDay: Double
  public var miningHostsByUnit: [String: Int]?
  public var anomalies: [String: UInt64]
  public var captureReceived: UInt64?
  public var captureDropped: UInt64?
  public var captureIfDropped: UInt64?
  /// Each fanout capture worker's kernel counters (only with more than one worker; received and
  /// dropped above are their sums, the interface's drops one count every worker reads).
  public var captureWorkers: [CaptureWorker]?
  /// The interval's packets, and those of them that did not decode to IP (other link or tunnel
  /// formats, malformed headers, non-IP frames).
  public var packets: UInt64?
  public var undecodedPackets: UInt64?
  /// Set when most of the interval's packets could not be decoded: the feed may be wrapped in
  /// something minewatch does not read, and the interval's figures then say little.
  public var warning: String?

  enum CodingKeys: String, CodingKey {
    case pools, final, anomalies, packets, warning
    case undecodedPackets = "undecoded_packets"
    case intervalS = "interval_s"
    case miningHosts = "mining_hosts"
    case egressBytes = "egress_bytes"
    case egressMbps = "egress_mbps"
    case hashrateHpsByAlgorithm = "hashrate_hps_by_algorithm"
    case sessionsActive = "sessions_active"
    case sessionsStartedTotal = "sessions_started_total"
    case sessionsEndedTotal = "sessions_ended_total"
    case lookupHosts = "lookup_hosts"
    case alertsQueued = "alerts_queued"
    case alertsDropped = "alerts_dropped"
    case powerKw = "power_kw"
    case powerKwLow = "power_kw_low"
    case powerKwHigh = "power_kw_high"
    case energyKwhPerDay = "energy_kwh_per_day"
    case coalKgPerDay = "coal_kg_per_day"
    case co2KgPerDay = "co2_kg_per_day"
    case miningHostsByUnit = "mining_hosts_by_unit"
    case captureReceived = "capture_received"
    case captureDropped = "capture_dropped"
    case captureIfDropped = "capture_if_dropped"
    case captureWorkers = "capture_workers"
  }

  public struct CaptureWorker: Codable, Equatable, Sendable {
    public var worker: Int
    public var received: UInt64
    public var dropped: UInt64
    public var ifDropped: UInt64
    enum CodingKeys: String, CodingKey {
      case worker, received, dropped
      case ifDropped = "if_dropped"
    }
    public init(worker: Int, received: UInt64, dropped: UInt64, ifDropped: UInt64) {
      self.worker = worker
      self.received = received
      self.dropped = dropped
      self.ifDropped = ifDropped
    }
  }

  public init(
    intervalS: Double, miningHosts: Int, pools: Int, egressBytes: UInt64, egressMbps: Double,
    hashrateHpsByAlgorithm: [String: Double], sessionsActive: Int, sessionsStartedTotal: Int,
    sessionsEndedTotal: Int, lookupHosts: Int, alertsQueued: Int, alertsDropped: Int, final: Bool,
    powerKw: Double,
    powerKwLow: Double, powerKwHigh: Double, energyKwhPerDay: Double, coalKgPerDay: Double,
    co2KgPerDay: Double,
    miningHostsByUnit: [String: Int]?, anomalies: [String: UInt64]
  ) {
    self.intervalS = intervalS
    self.miningHosts = miningHosts
    self.pools = pools
    self.egressBytes = egressBytes
    self.egressMbps = egressMbps
    self.hashrateHpsByAlgorithm = hashrateHpsByAlgorithm
    self.sessionsActive = sessionsActive
    self.sessionsStartedTotal = sessionsStartedTotal
    self.sessionsEndedTotal = sessionsEndedTotal
    self.lookupHosts = lookupHosts
    self.alertsQueued = alertsQueued
    self.alertsDropped = alertsDropped
    self.final = final
    self.powerKw = powerKw
    self.powerKwLow = powerKwLow
    self.powerKwHigh = powerKwHigh
    self.energyKwhPerDay = energyKwhPerDay
    self.coalKgPerDay = coalKgPerDay
    self.co2KgPerDay = co2KgPerDay
    self.miningHostsByUnit = miningHostsByUnit
    self.anomalies = anomalies
  }
}

/// A finding's packets written, hashed and chained into evidence.log.
public struct EvidenceAlert: AlertBody, Equatable {
  public var host: String
  public var pool: String
  public var file: String
  public var sha256: String
  public var seq: Int
  public var chain: String
  public var packets: Int
  public var bytes: Int

  public init(_ e: EvidenceRecord) {
    host = e.host
    pool = e.pool
    file = e.file
    sha256 = e.sha256
    seq = e.seq
    chain = e.chain
    packets = e.packets
    bytes = e.bytes
  }
}

/// The kernel dropped packets since the last summary.
public struct CaptureDropsAlert: AlertBody, Equatable {
  public var captureDropped: UInt64
  public var captureIfDropped: UInt64
  public var droppedSinceLast: UInt64
  enum CodingKeys: String, CodingKey {
    case captureDropped = "capture_dropped"
    case captureIfDropped = "capture_if_dropped"
    case droppedSinceLast = "dropped_since_last"
  }

  public init(captureDropped: UInt64, captureIfDropped: UInt64, droppedSinceLast: UInt64) {
    self.captureDropped = captureDropped
    self.captureIfDropped = captureIfDropped
    self.droppedSinceLast = droppedSinceLast
  }
}

/// One line of the daemon's JSON log, read back: its event, time and typed body.
public enum AlertLine: Sendable {
  case sessionStart(String, SessionAlert)
  case sessionEnd(String, SessionAlert)
  case hostUpdate(String, HostUpdateAlert)
  case hostTable(String, HostTableAlert)
  case summary(String, SummaryAlert)
  case evidence(String, EvidenceAlert)
  case captureDrops(String, CaptureDropsAlert)

  private struct Head: Decodable {
    var event: String
    var time: String
  }

  private struct Sensor: Decodable { var sensor: String? }

  /// The sensor a log line names (every alert of a daemon with `sensor` carries it).
  public static func sensor(of line: Data) -> String? {
    (try? JSONDecoder().decode(Sensor.self, from: line))?.sensor
  }

  /// nil when the line is not an alert of a known event.
  public static func decode(_ line: Data) -> AlertLine? {
    let d = JSONDecoder()
    guard let head = try? d.decode(Head.self, from: line) else { return nil }
    let t = head.time
    switch head.event {
    case "session_start": return (try? d.decode(SessionAlert.self, from: line)).map { .sessionStart(t, $0) }
    case "session_end": return (try? d.decode(SessionAlert.self, from: line)).map { .sessionEnd(t, $0) }
    case "host_update": return (try? d.decode(HostUpdateAlert.self, from: line)).map { .hostUpdate(t, $0) }
    case "host_table": return (try? d.decode(HostTableAlert.self, from: line)).map { .hostTable(t, $0) }
    case "summary": return (try? d.decode(SummaryAlert.self, from: line)).map { .summary(t, $0) }
    case "evidence": return (try? d.decode(EvidenceAlert.self, from: line)).map { .evidence(t, $0) }
    case "capture_drops":
      return (try? d.decode(CaptureDropsAlert.self, from: line)).map { .captureDrops(t, $0) }
    default: return nil
    }
  }
}
