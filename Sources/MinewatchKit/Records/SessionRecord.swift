import Foundation

/// One session as written: in the scan report's `hosts[].sessions[]`, in the daemon's session
/// alerts, and as the HTML report reads either back. Field by field in README ("JSON schema").
public struct SessionRecord: Codable, Sendable, Equatable {
  public struct EvidencePcap: Codable, Sendable, Equatable {
    public var file: String
    public var sha256: String
    public var seq: Int
    public var packets: Int
    public var bytes: Int
    public var chain: String
  }

  public struct PrecedingLogin: Codable, Sendable, Equatable {
    public var peer: String
    public var port: Int
    public var secondsBefore: Double
    enum CodingKeys: String, CodingKey {
      case peer, port
      case secondsBefore = "seconds_before"
    }
  }

  public var finding: String
  public var confidence: String
  @Nullable public var miner: String?
  @Nullable public var minerHardware: String?
  public var poolIP: String
  public var poolPort: Int
  @Nullable public var poolName: String?
  @Nullable public var poolDomain: String?
  public var clientPort: Int
  public var protocolVariant: String
  @Nullable public var algorithm: String?
  @Nullable public var algorithmVariant: String?
  @Nullable public var coin: String?
  @Nullable public var login: String?
  @Nullable public var wallet: String?
  @Nullable public var account: String?
  @Nullable public var worker: String?
  @Nullable public var agent: String?
  @Nullable public var difficulty: Double?
  public var sharesSubmitted: Int
  public var sharesAccepted: Int
  public var sharesRejected: Int
  /// The shares were counted from encrypted records' rhythm, not read.
  public var sharesEstimated: Bool
  @Nullable public var hashrateHps: Double?
  @Nullable public var hashrateLowHps: Double?
  @Nullable public var hashrateHighHps: Double?
  @Nullable public var hashrateNote: String?
  @Nullable public var powerW: Double?
  @Nullable public var powerWLow: Double?
  @Nullable public var powerWHigh: Double?
  @Nullable public var reportedHashrateHps: Double?
  public var egressBytes: UInt64
  public var ingressBytes: UInt64
  public var egressPackets: UInt64
  public var ingressPackets: UInt64
  public var firstSeen: String
  public var lastSeen: String
  public var durationS: Double
  public var evidence: [String]
  @Nullable public var evidencePcap: EvidencePcap?
  @Nullable public var precedingLogin: PrecedingLogin?
  @Nullable public var tunnel: String?

  enum CodingKeys: String, CodingKey {
    case finding, confidence, miner
    case minerHardware = "miner_hardware"
    case poolIP = "pool_ip"
    case poolPort = "pool_port"
    case poolName = "pool_name"
    case poolDomain = "pool_domain"
    case clientPort = "client_port"
    case protocolVariant = "protocol"
    case algorithm
    case algorithmVariant = "algorithm_variant"
    case coin, login, wallet, account, worker, agent, difficulty
    case sharesSubmitted = "shares_submitted"
    case sharesAccepted = "shares_accepted"
    case sharesRejected = "shares_rejected"
    case sharesEstimated = "shares_estimated"
    case hashrateHps = "hashrate_hps"
    case hashrateLowHps = "hashrate_low_hps"
    case hashrateHighHps = "hashrate_high_hps"
    case hashrateNote = "hashrate_note"
    case powerW = "power_w"
    case powerWLow = "power_w_low"
    case powerWHigh = "power_w_high"
    case reportedHashrateHps = "reported_hashrate_hps"
    case egressBytes = "egress_bytes"
    case ingressBytes = "ingress_bytes"
    case egressPackets = "egress_packets"
    case ingressPackets = "ingress_packets"
    case firstSeen = "first_seen"
    case lastSeen = "last_seen"
    case durationS = "duration_s"
    case evidence
    case evidencePcap = "evidence_pcap"
    case precedingLogin = "preceding_login"
    case tunnel
  }

  public init(_ s: ScanReport.Session) {
    finding = s.finding.rawValue
    confidence = s.confidence.rawValue
    miner = s.miner
    minerHardware = s.minerHardware
    poolIP = "\(s.poolIP)"
    poolPort = Int(s.poolPort)
    poolName = s.poolName
    poolDomain = s.poolDomain
    clientPort = Int(s.clientPort)
    protocolVariant = s.protocolVariant
    algorithm = s.algorithm
    algorithmVariant = s.algorithmVariant
    coin = s.coin
    login = s.login
    wallet = s.wallet
    account = s.account
    worker = s.worker
    agent = s.agent
    difficulty = s.difficulty
    sharesSubmitted = s.sharesSubmitted
    sharesAccepted = s.sharesAccepted
    sharesRejected = s.sharesRejected
    sharesEstimated = s.sharesEstimated
    hashrateHps = s.hashrate?.rate
    hashrateLowHps = s.hashrate?.low
    hashrateHighHps = s.hashrate?.high
    hashrateNote = s.hashrateNote
    powerW = s.power?.watts
    powerWLow = s.power?.low
    powerWHigh = s.power?.high
    reportedHashrateHps = s.reportedHashrate
    egressBytes = s.egressBytes
    ingressBytes = s.ingressBytes
    egressPackets = s.egressPackets
    ingressPackets = s.ingressPackets
    firstSeen = ScanReport.iso8601(s.firstNs)
    lastSeen = ScanReport.iso8601(s.lastNs)
    durationS = Double(s.lastNs &- s.firstNs) / 1e9
    evidence = s.evidence
    evidencePcap = s.evidenceFile.map {
      EvidencePcap(
        file: $0.file, sha256: $0.sha256, seq: $0.seq, packets: $0.packets, bytes: $0.bytes, chain: $0.chain)
    }
    precedingLogin = s.precedingLogin.map {
      PrecedingLogin(peer: "\($0.peer)", port: Int($0.port), secondsBefore: $0.secondsBefore)
    }
    tunnel = s.tunnel
  }
}
