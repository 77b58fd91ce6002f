import Foundation
import MinewatchCore

/// The protocol a session speaks, as reported.
public enum ProtocolVariant: String, Sendable {
  case stratum = "stratum"
  case stratumEquihash = "stratum-equihash"
  case ethereumStratum = "ethereumstratum"
  case ethProxy = "eth-proxy"
  case cryptoNote = "cryptonote"
  case getwork = "getwork"
  /// Seen only as a TLS connection to a pool's name.
  case tls = "tls"
  /// An HTTP exchange naming a pool or browser-miner service.
  case http = "http"
  /// A connection to a pool's address whose bytes say nothing readable.
  case unidentified = "unidentified"

  /// Whether the mining protocol itself was read (rather than inferred from names).
  var isProtocol: Bool { self != .tls && self != .http && self != .unidentified }
}

/// One mining flow followed from its lines: who is who, what is mined, what the shares are
/// worth. Fed one message at a time; every field stays nil until the traffic says it.
public final class MiningSession {
  public let flowID: UInt32
  /// Where the flow sat in the C table when the session began (for live statistics).
  let slot: UInt32
  let a: Endpoint
  let b: Endpoint
  /// true when `a` is the miner; nil until a role-bearing message says.
  private(set) var clientIsA: Bool?
  /// Both sides sent miner-only (or pool-only) messages: an echo or a confused peer, not mining.
  private(set) var roleConflict = false
  var variant: ProtocolVariant?
  var login: String?
  var worker: String?
  var agent: String?
  var algorithmHint: String?
  var poolHost: String?
  var current: ShareWeight?
  var lastDifficulty: Double?
  var submitted = 0
  var accepted = 0
  var rejected = 0
  var stratumDifficultySum = 0.0
  var hashSum = 0.0
  var sharesOfUnknownWeight = 0
  /// Rates the miner stated: a running mean, so a chatty or hostile peer costs no memory.
  var reportedRateSum = 0.0
  var reportedRateCount = 0
  var reportedRate: Double? { reportedRateCount > 0 ? reportedRateSum / Double(reportedRateCount) : nil }
  /// Shares whose reply was never matched because too many were pending (counted).
  private(set) var pendingEvicted = 0
  var evidence: Set<String> = []
  /// Both ends' activity when the session began (a later login must not replace the one
  /// that came before the mining).
  var activityAtStart: [IPAddress: HostActivity] = [:]
  /// The session was handed to the observer once it became reportable.
  var announced = false
  /// Login and share lines the miner sent: evidence keeps the packets that carry them.
  private(set) var keyLines = 0
  /// The session's evidence file, once closed and logged.
  var evidenceRecord: EvidenceRecord?
  /// Bytes and shares so far, sampled on packet time (the host timelines).
  var samples = TimelineSamples()

  func sample(at ns: UInt64, stats: FlowStats?) {
    guard let client else { return }
    let egress = stats.map { client == a ? $0.bytesFromA : $0.bytesFromB } ?? 0
    samples.add(.init(ns: ns, egressBytes: egress, shares: submitted))
  }
  var stats: FlowStats?
  var firstNs: UInt64
  var lastNs: UInt64
  var sni: String?
  var httpHost: String?
  /// The name DNS gave the pool's address for, when a lookup preceded the flow.
  var dnsName: String?
  /// Names recent DNS answers gave for either end, when no signature lists them.
  var answeredNames: [IPAddress: String] = [:]
  /// The signature entry that named this flow's pool (TLS name, HTTP Host or pool address).
  var nameDomain: Signatures.Domain?
  private(set) var sawClientLine = false
  private(set) var sawServerLine = false
  /// Submits waiting for a reply, by JSON-RPC id. Bounded: a peer that never answers (or sends
  /// endless unique ids) cannot grow it past maxPending.
  private var pendingSubmits: [String: Int] = [:]
  private var pendingCount = 0
  private var pendingLogins: Set<String> = []
  static let maxPending = 1024
  private var subscribedWithHost = false

  init(flowID: UInt32, slot: UInt32, a: Endpoint, b: Endpoint, at: UInt64) {
    self.flowID = flowID
    self.slot = slot
    self.a = a
    self.b = b
    firstNs = at
    lastNs = at
  }

  var client: Endpoint? { clientIsA.map { $0 ? a : b } }
  var server: Endpoint? { clientIsA.map { $0 ? b : a } }
  var confirmed: Bool { clientIsA != nil && !roleConflict }
  /// Payload crossed the flow: a connection to a pool's address that never carries any is an
  /// attempt (refused, unanswered), counted per host, not a session.
  var carriedPayload = false
  /// Worth a report: the protocol with consistent roles, or a pool's name or address on a flow
  /// that carried payload.
  var reportable: Bool { confirmed && (variant != nil || (nameDomain != nil && carriedPayload)) }
  /// A connection to a pool that ended without payload.
  var isAttempt: Bool { confirmed && variant == nil && nameDomain != nil && !carriedPayload }

  /// Names the miner side from outside the protocol (a TLS hello, a pool address); what the
  /// protocol itself said wins.
  func forceClientIfUnknown(isA: Bool) {
    if clientIsA == nil { clientIsA = isA }
  }

  private func noteRole(_ role: mw_role, fromA: Bool) {
    let senderIsClient: Bool
    switch role {
    case MW_ROLE_CLIENT: senderIsClient = true
    case MW_ROLE_SERVER: senderIsClient = false
    default: return
    }
    let isA = senderIsClient == fromA
    if let known = clientIsA, known != isA { roleConflict = true }
    if clientIsA == nil { clientIsA = isA }
  }

  /// Methods whose fields say nothing minewatch reports: their lines are not parsed (job
  /// notifications are most of a pool's traffic).
  private static let fieldless: Set<String> = [
    "mining.notify", "mining.extranonce.subscribe", "mining.get_transactions", "mining.noop",
    "keepalived", "getjob", "eth_getWork",
  ]

  /// Lines that identify the miner or prove its work.
  private static let keyMethods: Set<String> = [
    "mining.subscribe", "mining.authorize", "mining.submit", "login", "submit", "eth_submitLogin",
    "eth_login", "eth_submitWork", "submitblock",
  ]

  /// Applies one line. `methodID` is the C matcher's verdict (0: not a mining method).
  func apply(line: [UInt8], methodID: UInt16, fromA: Bool, at: UInt64) {
    lastNs = max(lastNs, at)
    carriedPayload = true
    let info = mw_method_info_at(methodID)?.pointee
    if let info { noteRole(info.role, fromA: fromA) }
    let fromClient = clientIsA.map { $0 == fromA }
    if fromClient == true { sawClientLine = true } else if fromClient == false { sawServerLine = true }
    let name = info?.name.map { String(cString: $0) }
    if let name {
      evidence.insert("method:" + name)
      if info?.role == MW_ROLE_CLIENT && Self.keyMethods.contains(name) { keyLines += 1 }
    }
    // Field-less methods go through the same switch with an empty message: no parse.
    guard let msg = name.map(Self.fieldless.contains) == true ? RPCMessage.empty : RPCMessage.parse(line)
    else {
      // A line cut by the buffer still proves a share when the matcher saw mining.submit in it.
      if let name, isShareMethod(name) { countShare(id: nil) }
      return
    }
    if let info, let name {
      if info.role == MW_ROLE_CLIENT { clientMessage(name, msg) } else { serverMessage(name, msg) }
    } else if msg.method == nil, fromClient != true {
      response(msg)
    }
  }

  func noteStatedRate(_ r: Double) { noteRate(r) }

  private func noteRate(_ r: Double?) {
    guard let r, r.isFinite, r >= 0, r < 1e21 else { return }
    reportedRateSum += r
    reportedRateCount += 1
  }

  private func isShareMethod(_ name: String) -> Bool {
    name == "mining.submit" || name == "eth_submitWork" || name == "submit" || name == "submitblock"
  }

  private func countShare(id: String?) {
    submitted += 1
    switch current {
    case .difficulty(let d)?: stratumDifficultySum += d
    case .hashes(let h)?: hashSum += h
    case nil: sharesOfUnknownWeight += 1
    }
    guard let id else { return }
    if pendingCount >= Self.maxPending {
      pendingSubmits.removeAll(keepingCapacity: true)  // a pool that stopped answering
      pendingEvicted += pendingCount
      pendingCount = 0
    }
    pendingSubmits[id, default: 0] += 1
    pendingCount += 1
  }

  private func setLogin(_ s: String?) {
    guard let s, !s.isEmpty, login == nil else { return }
    login = String(s.prefix(256))
  }

  private func clientMessage(_ name: String, _ m: RPCMessage) {
    switch name {
    case "mining.subscribe":
      variant = variant ?? .stratum
      if let ag = m.param(0) as? String { agent = String(ag.prefix(128)) }
      if let proto = m.param(1) as? String, proto.hasPrefix("EthereumStratum") {
        variant = .ethereumStratum
      }
      // Equihash miners subscribe as [agent, session, host, port] (ZIP 301).
      if m.paramList.count >= 3, let host = m.param(2) as? String {
        poolHost = host.lowercased()
        subscribedWithHost = true
      }
    case "mining.authorize":
      variant = variant ?? .stratum
      setLogin(m.param(0) as? String)
    case "mining.submit":
      variant = variant ?? .stratum
      if login == nil, let w = m.param(0) as? String { setLogin(w) }
      countShare(id: m.id)
    case "mining.hashrate":
      noteRate(hexOrDecimal(m.param(0)))
    case "eth_submitLogin", "eth_login":
      variant = .ethProxy
      setLogin(m.param(0) as? String)
      if let w = m.object["worker"] as? String, !w.isEmpty { worker = w }
    case "eth_getWork":
      variant = variant ?? .ethProxy
    case "eth_submitWork":
      variant = variant ?? .ethProxy
      countShare(id: m.id)
    case "eth_submitHashrate":
      variant = variant ?? .ethProxy
      noteRate(hexOrDecimal(m.param(0)))
    case "login":
      variant = .cryptoNote
      let p = m.paramObject
      setLogin(p["login"] as? String)
      if let ag = p["agent"] as? String { agent = String(ag.prefix(128)) }
      if let rig = p["rigid"] as? String, !rig.isEmpty { worker = rig }
      if let algos = p["algo"] as? [String], let first = algos.first { algorithmHint = first }
      if let id = m.id, pendingLogins.count < 16 { pendingLogins.insert(id) }
    case "submit":
      variant = .cryptoNote
      countShare(id: m.id)
    case "getjob", "keepalived":
      variant = .cryptoNote
    case "submitblock":
      variant = .getwork
      countShare(id: m.id)
    case "getwork", "getblocktemplate":
      variant = .getwork
    default:
      break
    }
  }

  private func serverMessage(_ name: String, _ m: RPCMessage) {
    switch name {
    case "mining.set_difficulty":
      if let d = jsonDouble(m.param(0)), d > 0, d.isFinite {
        current = .difficulty(d)
        lastDifficulty = d
      }
    case "mining.set_target":
      if let t = m.param(0) as? String, let h = ShareTargets.hashesFor256BitTarget(t) {
        current = .hashes(h)
        lastDifficulty = h
        if subscribedWithHost || variant == nil || variant == .stratum { variant = .stratumEquihash }
      }
    case "mining.notify":
      variant = variant ?? .stratum
    case "job":
      variant = .cryptoNote
      cryptoNoteJob(m.paramObject)
    default:
      break
    }
  }

  private func cryptoNoteJob(_ job: [String: Any]) {
    if let t = job["target"] as? String, let d = ShareTargets.cryptoNoteDifficulty(t) {
      current = .hashes(d)
      lastDifficulty = d
    }
    if let algo = job["algo"] as? String { algorithmHint = algo }
  }

  /// A reply from the pool: settles a pending share, or carries work (ETH proxy, CryptoNote).
  private func response(_ m: RPCMessage) {
    if let id = m.id, let n = pendingSubmits[id], n > 0 {
      pendingSubmits[id] = n == 1 ? nil : n - 1
      pendingCount -= 1
      if isAccepted(m) { accepted += 1 } else { rejected += 1 }
      return
    }
    if let id = m.id, pendingLogins.remove(id) != nil,
      let result = m.result as? [String: Any], let job = result["job"] as? [String: Any]
    {
      cryptoNoteJob(job)
      return
    }
    // ETH proxy work: [header, seed, boundary], as a reply to eth_getWork or pushed with id 0.
    if variant == .ethProxy, let work = m.result as? [Any], work.count >= 3,
      let boundary = work[2] as? String, let h = ShareTargets.hashesFor256BitTarget(boundary)
    {
      current = .hashes(h)
      lastDifficulty = h
      return
    }
    // EthereumStratum/1.0.0 announces itself in the subscribe reply.
    if let r = m.result as? [Any], let first = r.first as? [Any],
      first.contains(where: { ($0 as? String)?.hasPrefix("EthereumStratum") == true })
    {
      variant = .ethereumStratum
    }
  }

  private func isAccepted(_ m: RPCMessage) -> Bool {
    if m.error != nil { return false }
    switch m.result {
    case let b as Bool: return b
    case let o as [String: Any]:
      if let s = o["status"] as? String { return s.uppercased() == "OK" }
      return true
    case nil: return false
    default: return true
    }
  }
}
