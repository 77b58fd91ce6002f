import Foundation

/// The findings of one scan: sessions grouped by host, with totals. Built once from the
/// tracker at the end; the JSON and the table are two renderings of it.
public struct ScanReport: Sendable {
  public struct Capture: Sendable {
    public var files: [String]
    public var packets: UInt64
    public var bytes: UInt64
    public var startNs: UInt64
    public var endNs: UInt64
    public var durationSeconds: Double { endNs > startNs ? Double(endNs - startNs) / 1e9 : 0 }
    public var warnings: [String]
  }

  /// Why a session was reported, strongest first.
  public enum Finding: String, Sendable, Comparable {
    /// The mining protocol was read on the wire.
    case stratum
    /// A connection to a pool, known by its TLS name, HTTP Host or address.
    case poolConnection = "pool-connection"
    /// An encrypted flow no name attributes, whose rhythm is a miner's (RhythmJudge).
    case encryptedPattern = "encrypted-pattern"
    /// A connection to an in-browser mining service.
    case browserMiner = "browser-miner"
    /// Only a DNS lookup of a pool's name.
    case poolLookup = "pool-lookup"

    var rank: Int {
      switch self {
      case .stratum: return 0
      case .poolConnection: return 1
      case .encryptedPattern: return 2
      case .browserMiner: return 3
      case .poolLookup: return 4
      }
    }
    public static func < (a: Finding, b: Finding) -> Bool { a.rank < b.rank }
  }

  public enum Confidence: String, Sendable, Comparable {
    case high, medium, low
    var rank: Int { self == .high ? 0 : self == .medium ? 1 : 2 }
    public static func < (a: Confidence, b: Confidence) -> Bool { a.rank < b.rank }
  }

  public struct Lookup: Sendable {
    public var name: String
    public var poolName: String?
    public var kind: String
    public var coins: [String]
    public var firstNs: UInt64
    public var lastNs: UInt64
    public var queries: Int
  }

  /// An inbound login from outside the site to the miner's host shortly before its mining began.
  public struct PrecedingLogin: Sendable {
    public var peer: IPAddress
    public var port: UInt16
    public var secondsBefore: Double
  }

  public struct Session: Sendable {
    public var finding: Finding
    public var confidence: Confidence
    public var clientIP: IPAddress
    public var clientPort: UInt16
    public var poolIP: IPAddress
    public var poolPort: UInt16
    public var poolName: String?
    public var poolDomain: String?
    public var protocolVariant: String
    public var algorithm: String?
    public var algorithmVariant: String?
    public var coin: String?
    public var login: String?
    public var wallet: String?
    public var account: String?
    public var worker: String?
    public var agent: String?
    public var miner: String?
    public var minerHardware: String?
    public var difficulty: Double?
    public var sharesSubmitted: Int
    public var sharesAccepted: Int
    public var sharesRejected: Int
    /// Shares counted from encrypted records' rhythm, not read: an estimate.
    public var sharesEstimated: Bool = false
    public var hashrate: HashrateEstimate?
    /// Power drawn for that hashrate (signatures/energy.txt), nil when either is unknown.
    public var power: PowerEstimate?
    public var hashrateNote: String?
    public var reportedHashrate: Double?
    public var egressBytes: UInt64
    public var ingressBytes: UInt64
    public var egressPackets: UInt64
    public var ingressPackets: UInt64
    public var firstNs: UInt64
    public var lastNs: UInt64
    public var evidence: [String]
    public var precedingLogin: PrecedingLogin?
    /// The tunnel (or VLAN) the flow's first packet came through: which feed saw it.
    public var tunnel: String? = nil
    /// The finding's packets as written to the evidence directory.
    public var evidenceFile: EvidenceRecord?
    /// Bytes and shares over time.
    var samples = TimelineSamples()
    /// The hashes behind the submitted shares, when the estimate is known.
    public var hashes: Double?
    /// What one share is worth in hashes.
    var hashesPerShare: Double?
  }

  /// miner: mines through a pool (protocol or pool connection seen); proxy: serves stratum
  /// to other internal hosts; browser-miner: only in-browser mining services; attempt: only
  /// tried to connect to pools (no payload ever crossed); lookup: only looked pool names up.
  public enum Role: String, Sendable {
    case miner, proxy
    case browserMiner = "browser-miner"
    case attempt
    case lookup
  }

  public struct Host: Sendable {
    public var ip: IPAddress
    public var role: Role
    /// Its sessions, oldest first (all of them unless the report's limit was reached).
    public var sessions: [Session]
    /// Sessions seen in all, listed or not.
    public var sessionsTotal: Int
    public var egressBytes: UInt64
    public var ingressBytes: UInt64
    public var egressMbps: Double?
    /// Per algorithm: hashes of all its sessions over the time they covered together.
    public var estimates: [String: HashrateEstimate]
    /// Power for those rates (signatures/energy.txt), nil when no rate or efficiency is known.
    public var power: PowerEstimate?
    /// Time covered by its pool sessions together (overlaps once, gaps not at all).
    public var miningSeconds: Double
    /// Shares behind the estimates.
    public var shares: Int
    public var failedConnections: HostTable.FailedConnections?
    public var clientsServed: [IPAddress]
    public var hashrateByAlgorithm: [String: Double] { estimates.mapValues(\.rate) }
    /// The host's rate when all its sessions share one algorithm, else nil.
    public var hashrate: Double? { estimates.count == 1 ? estimates.values.first?.rate : nil }
    /// Distinct miners seen behind this address: by worker or login, and agent. More than one
    /// means several machines share it (NAT) or one runs several rigs.
    public var minerIdentities: [String] {
      Array(
        Set(
          sessions.filter { $0.finding == .stratum }.compactMap { s -> String? in
            guard let who = s.worker.map({ "\(s.wallet ?? s.account ?? "")/\($0)" }) ?? s.login else {
              return nil
            }
            return who + (s.agent.map { " (\($0))" } ?? "")
          })
      ).sorted()
    }
    public var confidence: Confidence
    public var findings: [Finding]
    public var lookups: [Lookup]
    /// What kind of mining, with every sign that led there (nil for hosts that only looked
    /// pool names up).
    public var kind: MiningKind? = nil
    public var kindReasons: [String] = []
    /// Mbps and hashrate per interval over the capture.
    public var timeline: [TimelinePoint] = []
  }

  public var capture: Capture
  public var hosts: [Host]
  public var anomalies: [String: UInt64]
  public var factors = EnergyFactors()
  /// The sensor or machine that scanned (`scan --sensor`, the config's `sensor`, the host name).
  public var sensor: String?
  /// The organisation's networks, when an asset map was given: hosts carry their unit and the
  /// report groups by unit.
  public var assets: AssetMap?

  /// The mining hosts' power together (proxies left out: their clients are counted).
  public var power: PowerEstimate {
    miningHosts.compactMap(\.power).reduce(PowerEstimate.zero, +)
  }

  public var miningHosts: [Host] { hosts.filter { $0.role == .miner } }
  /// Sessions with a pool (the protocol read, or a connection to a pool's name or address).
  var poolSessions: [Session] { miningHosts.flatMap { $0.sessions.filter(\.isPoolSession) } }
  public var pools: Set<String> { Set(poolSessions.map { "\($0.poolIP)" }) }
  public var egressBytesToPools: UInt64 { miningHosts.reduce(0) { $0 + $1.egressBytes } }
  public var egressMbps: Double? { mbps(egressBytesToPools) }

  func mbps(_ bytes: UInt64) -> Double? {
    let d = capture.durationSeconds
    return d > 0 ? Double(bytes) * 8 / d / 1e6 : nil
  }

  /// The mining hosts' rates added up per algorithm (proxies left out: their clients are counted).
  public var hashrateByAlgorithm: [String: Double] {
    var out: [String: Double] = [:]
    for h in miningHosts { out.merge(h.hashrateByAlgorithm, uniquingKeysWith: +) }
    return out
  }

  public var foundMining: Bool { hosts.contains { $0.role == .miner || $0.role == .browserMiner } }

  func hosts(_ role: Role) -> Int { hosts.filter { $0.role == role }.count }
}
