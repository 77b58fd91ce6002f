import Foundation

/// One state per host, kept up to date as its sessions end, its connection attempts fail and it
/// serves others; the scan report, the daemon's alerts, summaries and host table all read a host
/// through `ReportBuilder.host`, which adds the sessions still open. Figures are kept as hashes,
/// shares and covered time, and rates are derived on read: a reconnect adds hashes and time, never
/// a second rate.
///
/// Bounded: at most `maxHosts` hosts (a host beyond is counted `host_table_full` and not kept)
/// and `maxListed` sessions listed in all (beyond, a session still adds to its host's figures but
/// is not listed: `host_sessions_not_listed`).
public final class HostTable {
  /// Hashes behind a host's shares of one algorithm, and the time its sessions covered.
  public struct Work: Sendable, Equatable {
    public var hashes = 0.0
    public var shares = 0
    public var spans = SpanSet()

    mutating func add(_ s: ScanReport.Session) {
      guard let h = s.hashes else { return }
      hashes += h
      shares += s.sharesSubmitted
      spans.insert(s.firstNs, s.lastNs)
    }

    mutating func absorb(_ o: Work) {
      hashes += o.hashes
      shares += o.shares
      spans.formUnion(o.spans)
    }
  }

  /// Connections to a pool's name or address that never carried a byte of payload: a miner
  /// retrying a dead or blocked pool.
  public struct FailedConnections: Sendable, Equatable {
    public var count = 0
    public var firstNs: UInt64 = .max
    public var lastNs: UInt64 = 0
    /// The pools tried (address:port), at most `maxPools`.
    public var pools: [String] = []
    static let maxPools = 16
  }

  public struct Entry: Sendable {
    /// Ended sessions, in the order they ended.
    public internal(set) var sessions: [ScanReport.Session] = []
    /// Per algorithm ("unknown" when only the hashes are known), every ended session with an
    /// estimate, listed or not.
    public internal(set) var work: [String: Work] = [:]
    /// Time covered by the host's ended pool sessions.
    public internal(set) var mining = SpanSet()
    public internal(set) var egressBytes: UInt64 = 0
    public internal(set) var ingressBytes: UInt64 = 0
    public internal(set) var sessionsEnded = 0
    public internal(set) var failed: FailedConnections?
    /// Internal hosts this one served stratum to (a mining proxy), at most `maxServed`.
    public internal(set) var served: Set<IPAddress> = []
    public internal(set) var lastNs: UInt64 = 0
  }

  public private(set) var entries: [IPAddress: Entry] = [:]
  public let maxHosts: Int
  public let maxListed: Int
  static let maxServed = 4096
  private var listed = 0
  public private(set) var counts: [String: UInt64] = [:]

  public init(maxHosts: Int = 262_144, maxListed: Int = 262_144) {
    self.maxHosts = maxHosts
    self.maxListed = maxListed
  }

  public enum Anomaly: String, CaseIterable, Sendable {
    case hostTableFull = "host_table_full"
    case sessionsNotListed = "host_sessions_not_listed"
  }

  private func count(_ a: Anomaly) { counts[a.rawValue, default: 0] += 1 }

  /// The entry of `ip`, made when there is room.
  private func update(_ ip: IPAddress, _ change: (inout Entry) -> Void) {
    if entries[ip] == nil {
      guard entries.count < maxHosts else { return count(.hostTableFull) }
      entries[ip] = Entry()
    }
    change(&entries[ip]!)
  }

  /// A session as it ended: its hashes and time join the host's figures.
  func sessionEnded(_ s: ScanReport.Session) {
    update(s.clientIP) { e in
      e.sessionsEnded += 1
      e.lastNs = max(e.lastNs, s.lastNs)
      if s.isPoolSession {
        e.mining.insert(s.firstNs, s.lastNs)
        e.egressBytes += s.egressBytes
        e.ingressBytes += s.ingressBytes
      }
      e.work[s.algorithm ?? "unknown", default: Work()].add(s)
      if listed < maxListed {
        e.sessions.append(s)
        listed += 1
      } else {
        count(.sessionsNotListed)
      }
    }
  }

  func connectionFailed(host: IPAddress, pool: Endpoint, at ns: UInt64) {
    update(host) { e in
      var f = e.failed ?? FailedConnections()
      f.count += 1
      f.firstNs = min(f.firstNs, ns)
      f.lastNs = max(f.lastNs, ns)
      let name = "\(pool.ip):\(pool.port)"
      if f.pools.count < FailedConnections.maxPools, !f.pools.contains(name) { f.pools.append(name) }
      e.failed = f
      e.lastNs = max(e.lastNs, ns)
    }
  }

  /// `proxy` served stratum to `client`, both inside the site.
  func serves(proxy: IPAddress, client: IPAddress, at ns: UInt64) {
    update(proxy) { e in
      if e.served.count < Self.maxServed { e.served.insert(client) }
      e.lastNs = max(e.lastNs, ns)
    }
  }

  /// Takes in another table's hosts (a sharded scan's other engines, each through its flows):
  /// a host that both hold gets the sum of its figures, its sessions listed together (the
  /// report orders them), the union of its spans and of the clients it served.
  func absorb(_ other: HostTable) {
    for (k, v) in other.counts { counts[k, default: 0] += v }
    for (ip, o) in other.entries.sorted(by: { $0.key < $1.key }) {
      update(ip) { e in
        e.sessionsEnded += o.sessionsEnded
        e.lastNs = max(e.lastNs, o.lastNs)
        e.mining.formUnion(o.mining)
        e.egressBytes += o.egressBytes
        e.ingressBytes += o.ingressBytes
        for (algorithm, w) in o.work { e.work[algorithm, default: Work()].absorb(w) }
        for s in o.sessions {
          if listed < maxListed {
            e.sessions.append(s)
            listed += 1
          } else {
            count(.sessionsNotListed)
          }
        }
        if let f = o.failed {
          var mine = e.failed ?? FailedConnections()
          mine.count += f.count
          mine.firstNs = min(mine.firstNs, f.firstNs)
          mine.lastNs = max(mine.lastNs, f.lastNs)
          for name in f.pools
          where mine.pools.count < FailedConnections.maxPools && !mine.pools.contains(name) {
            mine.pools.append(name)
          }
          e.failed = mine
        }
        for c in o.served where e.served.count < Self.maxServed { e.served.insert(c) }
      }
    }
  }

  /// Forgets hosts last active before `ns` that have nothing open (the daemon, so that a
  /// sensor running for months holds the hosts of its recent past only).
  public func forget(idleBefore ns: UInt64, except open: Set<IPAddress>) {
    let gone = entries.filter { $0.value.lastNs < ns && !open.contains($0.key) }
    for (ip, e) in gone {
      listed -= e.sessions.count
      entries[ip] = nil
    }
  }
}

extension ScanReport.Session {
  /// A session with a pool: its protocol read, a connection to a pool's name or address, or an
  /// encrypted flow with a miner's rhythm.
  public var isPoolSession: Bool {
    finding == .stratum || finding == .poolConnection || finding == .encryptedPattern
  }
}
