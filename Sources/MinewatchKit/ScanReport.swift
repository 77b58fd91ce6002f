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

  public struct Session: Sendable {
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
    public var difficulty: Double?
    public var sharesSubmitted: Int
    public var sharesAccepted: Int
    public var sharesRejected: Int
    public var hashrate: HashrateEstimate?
    public var hashrateNote: String?
    public var reportedHashrate: Double?
    public var egressBytes: UInt64
    public var ingressBytes: UInt64
    public var egressPackets: UInt64
    public var ingressPackets: UInt64
    public var firstNs: UInt64
    public var lastNs: UInt64
    public var evidence: [String]
  }

  public enum Role: String, Sendable { case miner, proxy }

  public struct Host: Sendable {
    public var ip: IPAddress
    public var role: Role
    public var sessions: [Session]
    public var egressBytes: UInt64
    public var ingressBytes: UInt64
    public var egressMbps: Double?
    /// The host's rate when all its sessions share one algorithm, else nil.
    public var hashrate: Double?
    public var hashrateByAlgorithm: [String: Double]
    public var clientsServed: [IPAddress]
  }

  public var capture: Capture
  public var hosts: [Host]
  public var anomalies: [String: UInt64]

  public var miningHosts: [Host] { hosts.filter { $0.role == .miner } }
  public var pools: Set<String> {
    Set(miningHosts.flatMap { $0.sessions.map { "\($0.poolIP)" } })
  }
  public var egressBytesToPools: UInt64 { miningHosts.reduce(0) { $0 + $1.egressBytes } }
  public var egressMbps: Double? { mbps(egressBytesToPools) }

  func mbps(_ bytes: UInt64) -> Double? {
    let d = capture.durationSeconds
    return d > 0 ? Double(bytes) * 8 / d / 1e6 : nil
  }

  public var hashrateByAlgorithm: [String: Double] {
    var out: [String: Double] = [:]
    for h in miningHosts {
      for s in h.sessions {
        if let r = s.hashrate?.rate { out[s.algorithm ?? "unknown", default: 0] += r }
      }
    }
    return out
  }

  public var foundMining: Bool { !miningHosts.isEmpty }
}
