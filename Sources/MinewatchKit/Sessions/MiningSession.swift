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
  /// The rhythm the core followed, when the flow was encrypted (shares estimated from it).
  var rhythm: RhythmStats?
  /// The verdict on a flow no name attributes: found by its rhythm alone.
  var rhythmVerdict: RhythmJudge.Verdict?
  /// Told of each job the pool pushes (its algorithm, or the protocol when none is named, and
  /// when): encrypted flows' pushes are compared with them.
  var onJob: ((String, UInt64) -> Void)?
  var httpHost: String?
  /// The name DNS gave the pool's address for, when a lookup preceded the flow.
  var dnsName: String?
  /// Names recent DNS answers gave for either end, when no signature lists them.
  var answeredNames: [IPAddress: String] = [:]
  /// The signature entry that named this flow's pool (TLS name, HTTP Host or pool address).
  var nameDomain: Signatures.Domain?
  /// The verdict of an active verification of the pool's endpoint, when one found a pool.
  var verified: PoolVerdict?
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
  var reportable: Bool {
    confirmed && (variant != nil || (nameDomain != nil && carriedPayload) || rhythmVerdict != nil)
  }
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

  /// Applies one line: the C dissector's method (0: none) and the fields it found (nil when the
  /// line was cut by the buffer).
  func apply(methodID: UInt16, message: MiningMessage?, fromA: Bool, at: UInt64) {
    lastNs = max(lastNs, at)
    carriedPayload = true
    let info = mw_method_info_at(methodID)?.pointee
    if let info { noteRole(info.role, fromA: fromA) }
    let fromClient = clientIsA.map { $0 == fromA }
    if fromClient == true { sawClientLine = true } else if fromClient == false { sawServerLine = true }
    let method = MiningMethod.from(id: methodID)
    if let method {
      evidence.insert("method:" + method.rawValue)
      if info?.role == MW_ROLE_CLIENT && method.isKey { keyLines += 1 }
    }
    guard let message else {
      // A line cut by the buffer still proves a share when the matcher saw the submit in it.
      if let method, method.isShare { countShare(id: nil) }
      return
    }
    if let info, let method {
      if info.role == MW_ROLE_CLIENT {
        clientMessage(method, message)
      } else {
        serverMessage(method, message)
      }
    } else if fromClient != true, message.has(MW_F_RESULT) || message.has(MW_F_ERROR) {
      response(message)
    }
  }

  func noteStatedRate(_ r: Double) { noteRate(r) }

  private func noteRate(_ r: Double?) {
    guard let r, r.isFinite, r >= 0, r < 1e21 else { return }
    reportedRateSum += r
    reportedRateCount += 1
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

  private func clientMessage(_ method: MiningMethod, _ m: MiningMessage) {
    switch method {
    case .subscribe:
      variant = variant ?? .stratum
      if let ag = m.string(MW_F_AGENT) { agent = String(ag.prefix(128)) }
      if let proto = m.string(MW_F_PROTOCOL), proto.hasPrefix("EthereumStratum") {
        variant = .ethereumStratum
      }
      // Equihash miners subscribe as [agent, session, host, port] (ZIP 301).
      if let host = m.string(MW_F_HOST) {
        poolHost = host.lowercased()
        subscribedWithHost = true
      }
    case .authorize:
      variant = variant ?? .stratum
      setLogin(m.string(MW_F_LOGIN))
    case .submit:
      variant = variant ?? .stratum
      if login == nil { setLogin(m.string(MW_F_LOGIN)) }
      countShare(id: m.id)
    case .hashrate:
      noteRate(m.number(MW_F_RATE))
    case .ethSubmitLogin, .ethLogin:
      variant = .ethProxy
      setLogin(m.string(MW_F_LOGIN))
      if let w = m.string(MW_F_WORKER), !w.isEmpty { worker = w }
    case .ethGetWork:
      variant = variant ?? .ethProxy
    case .ethSubmitWork:
      variant = variant ?? .ethProxy
      countShare(id: m.id)
    case .ethSubmitHashrate:
      variant = variant ?? .ethProxy
      noteRate(m.number(MW_F_RATE))
    case .cnLogin:
      variant = .cryptoNote
      setLogin(m.string(MW_F_LOGIN))
      if let ag = m.string(MW_F_AGENT) { agent = String(ag.prefix(128)) }
      if let rig = m.string(MW_F_WORKER), !rig.isEmpty { worker = rig }
      if let algo = m.string(MW_F_ALGO) { algorithmHint = algo }
      if let id = m.id, pendingLogins.count < 16 { pendingLogins.insert(id) }
    case .cnSubmit:
      variant = .cryptoNote
      countShare(id: m.id)
    case .cnGetJob, .cnKeepalived:
      variant = .cryptoNote
    case .submitBlock:
      variant = .getwork
      countShare(id: m.id)
    case .getwork, .getBlockTemplate:
      variant = .getwork
    default:
      break
    }
  }

  private func serverMessage(_ method: MiningMethod, _ m: MiningMessage) {
    switch method {
    case .setDifficulty:
      if let d = m.number(MW_F_DIFFICULTY), d > 0 {
        current = .difficulty(d)
        lastDifficulty = d
      }
    case .setTarget:
      if let t = m.string(MW_F_TARGET), let h = ShareTargets.hashesFor256BitTarget(t) {
        current = .hashes(h)
        lastDifficulty = h
        if subscribedWithHost || variant == nil || variant == .stratum { variant = .stratumEquihash }
      }
    case .notify:
      variant = variant ?? .stratum
      onJob?(algorithmHint ?? variant?.rawValue ?? "stratum", lastNs)
    case .cnJob:
      variant = .cryptoNote
      cryptoNoteJob(target: m.string(MW_F_TARGET), algo: m.string(MW_F_ALGO))
      onJob?(algorithmHint ?? "cryptonote", lastNs)
    default:
      break
    }
  }

  private func cryptoNoteJob(target: String?, algo: String?) {
    if let t = target, let d = ShareTargets.cryptoNoteDifficulty(t) {
      current = .hashes(d)
      lastDifficulty = d
    }
    if let algo { algorithmHint = algo }
  }

  /// A reply from the pool: settles a pending share, or carries work (ETH proxy, CryptoNote).
  private func response(_ m: MiningMessage) {
    if let id = m.id, let n = pendingSubmits[id], n > 0 {
      pendingSubmits[id] = n == 1 ? nil : n - 1
      pendingCount -= 1
      if isAccepted(m) { accepted += 1 } else { rejected += 1 }
      return
    }
    if let id = m.id, m.has(MW_F_JOB_TARGET) || m.has(MW_F_JOB_ALGO), pendingLogins.remove(id) != nil {
      cryptoNoteJob(target: m.string(MW_F_JOB_TARGET), algo: m.string(MW_F_JOB_ALGO))
      return
    }
    // ETH proxy work: [header, seed, boundary], as a reply to eth_getWork or pushed with id 0.
    if variant == .ethProxy, let boundary = m.string(MW_F_BOUNDARY),
      let h = ShareTargets.hashesFor256BitTarget(boundary)
    {
      current = .hashes(h)
      lastDifficulty = h
      return
    }
    // EthereumStratum/1.0.0 announces itself in the subscribe reply.
    if m.string(MW_F_SUBSCRIBE_PROTOCOL)?.hasPrefix("EthereumStratum") == true { variant = .ethereumStratum }
  }

  /// An error that is not null rejects; `true` or `{"status": "OK"}` accepts; false or null rejects.
  private func isAccepted(_ m: MiningMessage) -> Bool {
    let error = m.type(MW_F_ERROR)
    if error != MW_JV_NONE && error != MW_JV_NULL { return false }
    switch m.type(MW_F_RESULT) {
    case MW_JV_TRUE: return true
    case MW_JV_FALSE, MW_JV_NULL, MW_JV_NONE: return false
    case MW_JV_OBJECT: return m.string(MW_F_STATUS).map { $0.uppercased() == "OK" } ?? true
    default: return true
    }
  }
}
