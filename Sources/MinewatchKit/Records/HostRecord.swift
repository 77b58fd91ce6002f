import Foundation

/// A host's figures and verdicts, as the host table gives them: the scan report's host, the
/// daemon's `host_table` alert, and what the HTML report reads from either.
public struct HostFigures: Codable, Sendable, Equatable {
  public struct Estimate: Codable, Sendable, Equatable {
    public var algorithm: String
    public var hashrateHps: Double
    public var hashrateLowHps: Double
    public var hashrateHighHps: Double
    enum CodingKeys: String, CodingKey {
      case algorithm
      case hashrateHps = "hashrate_hps"
      case hashrateLowHps = "hashrate_low_hps"
      case hashrateHighHps = "hashrate_high_hps"
    }
  }

  public struct FailedConnections: Codable, Sendable, Equatable {
    public var count: Int
    public var firstSeen: String
    public var lastSeen: String
    public var pools: [String]
    enum CodingKeys: String, CodingKey {
      case count, pools
      case firstSeen = "first_seen"
      case lastSeen = "last_seen"
    }
  }

  public var ip: String
  public var role: String
  public var egressBytes: UInt64
  public var ingressBytes: UInt64
  @Nullable public var egressMbps: Double?
  @Nullable public var hashrateHps: Double?
  public var hashrateHpsByAlgorithm: [String: Double]
  public var estimates: [Estimate]
  public var shares: Int
  @Nullable public var powerW: Double?
  @Nullable public var powerWLow: Double?
  @Nullable public var powerWHigh: Double?
  public var miningSeconds: Double
  @Nullable public var failedConnections: FailedConnections?
  public var sessionsTotal: Int
  public var clientsServed: [String]
  public var confidence: String
  public var findings: [String]
  public var miners: Int
  public var minerIdentities: [String]
  @Nullable public var kind: String?
  public var kindReasons: [String]

  enum CodingKeys: String, CodingKey {
    case ip, role, estimates, shares, confidence, findings, miners, kind
    case egressBytes = "egress_bytes"
    case ingressBytes = "ingress_bytes"
    case egressMbps = "egress_mbps"
    case hashrateHps = "hashrate_hps"
    case hashrateHpsByAlgorithm = "hashrate_hps_by_algorithm"
    case powerW = "power_w"
    case powerWLow = "power_w_low"
    case powerWHigh = "power_w_high"
    case miningSeconds = "mining_seconds"
    case failedConnections = "failed_connections"
    case sessionsTotal = "sessions_total"
    case clientsServed = "clients_served"
    case minerIdentities = "miner_identities"
    case kindReasons = "kind_reasons"
  }

  public init(_ h: ScanReport.Host) {
    ip = "\(h.ip)"
    role = h.role.rawValue
    egressBytes = h.egressBytes
    ingressBytes = h.ingressBytes
    egressMbps = h.egressMbps
    hashrateHps = h.hashrate
    hashrateHpsByAlgorithm = h.hashrateByAlgorithm
    estimates = h.estimates.sorted { $0.key < $1.key }.map {
      Estimate(
        algorithm: $0.key, hashrateHps: $0.value.rate, hashrateLowHps: $0.value.low,
        hashrateHighHps: $0.value.high)
    }
    shares = h.shares
    powerW = h.power?.watts
    powerWLow = h.power?.low
    powerWHigh = h.power?.high
    miningSeconds = h.miningSeconds
    failedConnections = h.failedConnections.map {
      FailedConnections(
        count: $0.count, firstSeen: ScanReport.iso8601($0.firstNs), lastSeen: ScanReport.iso8601($0.lastNs),
        pools: $0.pools)
    }
    sessionsTotal = h.sessionsTotal
    clientsServed = h.clientsServed.map { "\($0)" }
    confidence = h.confidence.rawValue
    findings = h.findings.map(\.rawValue)
    miners = h.minerIdentities.count
    minerIdentities = h.minerIdentities
    kind = h.kind?.rawValue
    kindReasons = h.kindReasons
  }
}

/// The unit a host belongs to in the asset map (null without a match); absent from the JSON
/// when no asset map was given.
public struct UnitFields: Codable, Sendable, Equatable {
  @Nullable public var unit: String?
  @Nullable public var unitContact: String?
  @Nullable public var assetClass: String?
  /// The tunnels of the host's tenant when the asset map names tenants (null: the sensor's own
  /// address space); the same address in two tenants is two hosts.
  @Nullable public var tenant: String?
  enum CodingKeys: String, CodingKey {
    case unit
    case unitContact = "unit_contact"
    case assetClass = "asset_class"
    case tenant
  }

  public init(unit: String?, unitContact: String?, assetClass: String?, tenant: String? = nil) {
    self.unit = unit
    self.unitContact = unitContact
    self.assetClass = assetClass
    self.tenant = tenant
  }
}

/// One host of the scan report: its figures, sessions, timeline and lookups, and its unit.
public struct HostRecord: Codable, Sendable, Equatable {
  public struct Point: Codable, Sendable, Equatable {
    public var t: String
    public var egressMbps: Double
    @Nullable public var hashrateHps: Double?
    enum CodingKeys: String, CodingKey {
      case t
      case egressMbps = "egress_mbps"
      case hashrateHps = "hashrate_hps"
    }
  }

  public struct Lookup: Codable, Sendable, Equatable {
    public var name: String
    @Nullable public var poolName: String?
    public var `class`: String
    public var coins: [String]
    public var firstSeen: String
    public var lastSeen: String
    public var queries: Int
    enum CodingKeys: String, CodingKey {
      case name, `class`, coins, queries
      case poolName = "pool_name"
      case firstSeen = "first_seen"
      case lastSeen = "last_seen"
    }
  }

  public var figures: HostFigures
  public var sessions: [SessionRecord]
  public var timeline: [Point]
  public var lookups: [Lookup]
  public var unit: UnitFields?

  enum CodingKeys: String, CodingKey { case sessions, timeline, lookups }

  public init(_ h: ScanReport.Host, unit: UnitFields?) {
    figures = HostFigures(h)
    sessions = h.sessions.map(SessionRecord.init)
    timeline = h.timeline.map {
      Point(t: ScanReport.iso8601($0.ns), egressMbps: $0.egressMbps, hashrateHps: $0.hashrate)
    }
    lookups = h.lookups.map {
      Lookup(
        name: $0.name, poolName: $0.poolName, class: $0.kind, coins: $0.coins,
        firstSeen: ScanReport.iso8601($0.firstNs),
        lastSeen: ScanReport.iso8601($0.lastNs), queries: $0.queries)
    }
    self.unit = unit
  }

  // One flat object: the figures, the unit's fields (with an asset map), then the lists.
  public init(from decoder: Decoder) throws {
    figures = try HostFigures(from: decoder)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    sessions = try c.decodeIfPresent([SessionRecord].self, forKey: .sessions) ?? []
    timeline = try c.decodeIfPresent([Point].self, forKey: .timeline) ?? []
    lookups = try c.decodeIfPresent([Lookup].self, forKey: .lookups) ?? []
    let u = try UnitFields(from: decoder)
    unit = u.unit == nil && u.unitContact == nil && u.assetClass == nil && u.tenant == nil ? nil : u
  }

  public func encode(to encoder: Encoder) throws {
    try figures.encode(to: encoder)
    try unit?.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(sessions, forKey: .sessions)
    try c.encode(timeline, forKey: .timeline)
    try c.encode(lookups, forKey: .lookups)
  }
}
