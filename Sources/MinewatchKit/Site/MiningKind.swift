import Foundation

/// What kind of mining a host does, judged from what the network shows.
public enum MiningKind: String, Sendable, CaseIterable {
  /// A person's miner: no sign of compromise, not in a research unit.
  case active
  /// Signs of a compromised host (see KindRules).
  case hijacked
  /// In an asset class the site marks as research.
  case research
  /// Serves stratum to other hosts.
  case proxy
}

/// The thresholds and lists the judgement uses; all of them are configuration.
public struct KindRules: Sendable, Equatable {
  /// Asset classes whose mining is research (asset map, fourth column).
  public var researchClasses: Set<String> = ["research"]
  /// Asset classes of servers: a server mining on CPU is a sign of a hijack.
  public var serverClasses: Set<String> = ["servers"]
  /// Algorithms mined on CPUs (mining them on a server is the usual cryptojacking payload).
  public var cpuAlgorithms: Set<String> = ["randomx", "cryptonight", "argon2", "yespower", "ghostrider"]
  /// Ports a host accepts remote logins on: SSH, Telnet, RDP, VNC, WinRM.
  public var loginPorts: [UInt16] = [22, 23, 3389, 5900, 5985, 5986]
  /// Mining that starts this soon after an inbound login from outside is a sign of a hijack.
  public var loginWindowSeconds: Double = 900
  /// Ports cryptojacking worms are reported to scan for their next victim: SSH, Telnet, SMB and
  /// RPC, MSSQL, MySQL, PostgreSQL, Redis, Docker API, WebLogic, Hadoop YARN, Elasticsearch,
  /// memcached, MongoDB.
  public var probePorts: [UInt16] = [
    22, 23, 135, 139, 445, 1433, 2375, 2376, 3306, 5432, 6379, 7001, 8088, 9200, 11211, 27017,
  ]
  /// A host that tries this many distinct (address, port) targets on probe ports within one
  /// probe window is probing others.
  public var probeTargets = 32

  public init() {}
}

/// Decides a host's kind from its sessions, its unit and its activity; every sign found is a
/// reason, the kind is the strongest: proxy, then hijacked, then research, then active.
struct KindJudge {
  let rules: KindRules
  let signatures: Signatures

  func judge(
    host: ScanReport.Host, unit: AssetMap.Entry?, activity: HostActivity?, servesOthers: Int
  ) -> (MiningKind, [String]) {
    var hijack: [String] = []
    var other: [String] = []
    let mining = host.sessions.filter { $0.finding != .poolLookup }
    for sign in Set(
      mining.flatMap { signatures.cryptojackingSign(pool: $0.poolDomain, agent: $0.agent).map(\.source) }
    )
    .sorted() {
      hijack.append("pool or agent typical of cryptojacking malware: \(sign)")
    }
    if host.role == .browserMiner {
      hijack.append("in-browser mining service: usually injected into web pages")
    }
    if let unit, rules.serverClasses.contains(unit.kind) {
      let cpu = mining.filter {
        $0.minerHardware == "cpu" || ($0.algorithm.map { rules.cpuAlgorithms.contains($0) } ?? false)
      }
      if let s = cpu.first {
        hijack.append(
          "server-class address (\(unit.unit), class \(unit.kind)) mining on CPU"
            + " (\(s.algorithm ?? s.miner ?? "cpu miner"))")
      }
    }
    // A session's preceding login is only ever one from outside the site (ReportBuilder).
    if let login = mining.compactMap(\.precedingLogin).min(by: { $0.secondsBefore < $1.secondsBefore }) {
      hijack.append(
        "mining began \(Int(login.secondsBefore.rounded())) s after an inbound login on port \(login.port)"
          + " from \(login.peer)")
    }
    if let a = activity, a.probeTargets >= rules.probeTargets {
      hijack.append(
        "probes others: about \(a.probeTargets) distinct targets on probe ports in one window"
          + " (\(a.probeAttempts) attempts)")
    }
    if let unit, rules.researchClasses.contains(unit.kind) {
      other.append("address in \(unit.unit), class \(unit.kind)")
    }
    if servesOthers > 0 {
      return (.proxy, ["serves stratum to \(servesOthers) internal host(s)"] + hijack + other)
    }
    if !hijack.isEmpty { return (.hijacked, hijack + other) }
    if !other.isEmpty { return (.research, other) }
    let who = Set(mining.compactMap { $0.miner ?? $0.agent }).sorted()
    var reasons = ["no sign of compromise"]
    if !who.isEmpty { reasons.append("miner: " + who.joined(separator: ", ")) }
    if let unit { reasons.append("address in \(unit.unit), class \(unit.kind)") }
    return (.active, reasons)
  }
}
