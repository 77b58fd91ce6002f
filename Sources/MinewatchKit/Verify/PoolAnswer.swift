import Foundation

/// The login a probe sends for each family, and how the endpoint's answer is read. Facts from
/// xmrig's Client.cpp and Job.cpp, the Stratum V1 documents (slush/braiins, BIP310), NiceHash's
/// EthereumStratum/1.0.0 and eth-proxy: a CryptoNote pool answers `login` with a job (blob, job_id,
/// target, algo); a Stratum V1 pool answers `mining.subscribe` with
/// `[[subscriptions], extranonce1, extranonce2_size]` then sends `mining.set_difficulty` and
/// `mining.notify`; an ETH proxy answers `eth_getWork` with `[header, seed, boundary]`. Any
/// JSON-RPC service is not a pool: an echo, an Ethereum node or a monitoring agent answers too,
/// so only a job, a notify, a subscription, work or an error in a pool's words counts.
enum PoolAnswer {
  /// The probe's requests, one JSON line each, as a miner would send them.
  static func request(_ family: PoolFamily, login: String) -> [UInt8] {
    let user = jsonString(login)
    let lines: [String]
    switch family {
    case .cryptonote:
      lines = [
        #"{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":\#(user),"pass":"x","agent":"minewatch-verify/1.0","algo":["rx/0","cn/r","cn/half","rx/wow","rx/arq","cn-heavy/xhv","argon2/chukwav2","kawpow","ghostrider"]}}"#
      ]
    case .stratum:
      lines = [
        #"{"id":1,"method":"mining.subscribe","params":["minewatch-verify/1.0"]}"#,
        #"{"id":2,"method":"mining.authorize","params":[\#(user),"x"]}"#,
      ]
    case .ethProxy:
      lines = [
        #"{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","params":[\#(user),"x"],"worker":"minewatch"}"#,
        #"{"id":2,"jsonrpc":"2.0","method":"eth_getWork","params":[]}"#,
      ]
    }
    return Array(lines.map { $0 + "\n" }.joined().utf8)
  }

  private static func jsonString(_ s: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [s], options: [])) ?? Data("[\"x\"]".utf8)
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
  }

  /// The methods the probe sends: an endpoint that sends them back is an echo, not a pool.
  static let ownMethods: Set<String> = [
    "login", "mining.subscribe", "mining.authorize", "eth_submitLogin", "eth_getWork",
  ]

  struct Facts: Equatable {
    var reason: String
    var detail: String
    var algorithm: String?
    var difficulty: Double?
    var hashesPerShare: Double?
    var ethash = false
  }

  enum Reading: Equatable {
    case pool(Facts)
    /// `final`: the endpoint answers every family alike (a web server, an echo), so no other
    /// login is worth sending.
    case notPool(String, final: Bool)
    case silent
    case tlsOnly
  }

  /// The complete lines received (a partial last line only when the peer closed), at most 64.
  static func lines(_ bytes: [UInt8], closed: Bool) -> [ArraySlice<UInt8>] {
    var out: [ArraySlice<UInt8>] = []
    var start = bytes.startIndex
    for i in bytes.indices where bytes[i] == 0x0A {
      out.append(bytes[start..<i])
      start = i + 1
      if out.count == 64 { return out }
    }
    if closed, start < bytes.endIndex { out.append(bytes[start...]) }
    return out.filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D || $0 == 0x09 } }
  }

  /// Enough has come to decide: a first JSON answer plus what follows it at once is read
  /// (the caller settles shortly after the first line); a non-JSON first byte decides at once.
  static func decided(_ bytes: [UInt8]) -> Bool {
    guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x0A }) else { return false }
    return first != UInt8(ascii: "{")
  }

  static func hasLine(_ bytes: [UInt8]) -> Bool { bytes.contains(0x0A) }

  private static let poolWords = [
    "address", "wallet", "login", "worker", "miner", "mining", "unauthori", "not authori", "banned", "algo",
    "difficulty", "share", "payment", "payout", "job", "subscribe", "coin",
  ]

  /// Reads what an endpoint answered to the family's requests.
  static func read(_ bytes: [UInt8], family: PoolFamily, closed: Bool) -> Reading {
    let body = bytes.drop { $0 == 0x20 || $0 == 0x0D || $0 == 0x0A || $0 == 0x09 }
    guard let first = body.first else { return .silent }
    if body.count >= 2, first == 0x15 || first == 0x16, body[body.startIndex + 1] == 0x03 { return .tlsOnly }
    if body.starts(with: Array("HTTP/".utf8)) {
      let status = body.prefix { $0 != 0x0D && $0 != 0x0A }.prefix(60)
      return .notPool("answered as an HTTP server (\(printable(status)))", final: true)
    }
    if body.starts(with: Array("SSH-".utf8)) { return .notPool("an SSH server", final: true) }
    if first == UInt8(ascii: "<") { return .notPool("answered with HTML (a web server)", final: true) }
    guard first == UInt8(ascii: "{") else {
      return .notPool("answered with data that is not JSON-RPC", final: true)
    }

    var facts = Facts(reason: "", detail: "")
    var rpcErrors: [String] = []
    var answered = false
    for line in lines(Array(body), closed: closed) {
      guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
        return answered
          ? reading(facts, rpcErrors) : .notPool("answered with data that is not JSON-RPC", final: true)
      }
      answered = true
      if let method = object["method"] as? String {
        if ownMethods.contains(method) {
          return .notPool("sent the request back (an echo service)", final: true)
        }
        note(method: method, params: object["params"], into: &facts)
      }
      if let message = errorMessage(object["error"]) {
        let lower = message.lowercased()
        if poolWords.contains(where: lower.contains), !lower.contains("method not found"),
          !lower.contains("unknown method")
        {
          if facts.reason.isEmpty {
            facts = Facts(reason: "error", detail: "an error in a pool's words: \"\(message)\"")
          }
        } else {
          rpcErrors.append(message)
        }
      }
      if let result = object["result"] {
        note(result: result, id: object["id"], family: family, into: &facts)
      }
    }
    guard answered else { return .silent }
    return reading(facts, rpcErrors)
  }

  private static func reading(_ facts: Facts, _ rpcErrors: [String]) -> Reading {
    if !facts.reason.isEmpty { return .pool(facts) }
    if let e = rpcErrors.first { return .notPool("a JSON-RPC service, not a pool: \"\(e)\"", final: false) }
    return .notPool("answered JSON that no pool sends", final: false)
  }

  /// A JSON-RPC error's message: an object's `message` (JSON-RPC 2.0), stratum's
  /// `[code, message, data]`, or a bare string; nil for no error (absent or null).
  private static func errorMessage(_ error: Any?) -> String? {
    let text: String?
    switch error {
    case let e as [String: Any]: text = e["message"] as? String ?? "error"
    case let e as [Any]: text = e.lazy.compactMap { $0 as? String }.first ?? "error"
    case let e as String: text = e
    default: text = nil
    }
    return text.map { String($0.prefix(120)) }
  }

  /// Stronger readings replace weaker ones: a job or work beats a subscription, which beats an
  /// error in a pool's words.
  private static let strength = [
    "error": 0, "login accepted": 1, "subscribe": 2, "notify": 3, "job": 4, "work": 4,
  ]

  private static func take(_ reason: String, _ detail: String, into facts: inout Facts) {
    if (strength[reason] ?? 0) >= (strength[facts.reason] ?? -1) {
      facts.reason = reason
      facts.detail = detail
    }
  }

  private static func note(method: String, params: Any?, into facts: inout Facts) {
    switch method {
    case "job":
      guard let job = params as? [String: Any], job["blob"] is String else { return }
      noteJob(job, into: &facts)
      take("job", "pushed a job", into: &facts)
    case "mining.notify":
      guard let p = params as? [Any], p.count >= 4 else { return }
      if p.count == 4 || p.count == 5, (p[1] as? String)?.count ?? 0 >= 64 { facts.ethash = true }
      take("notify", "sent mining.notify with \(p.count) fields", into: &facts)
    case "mining.set_difficulty":
      if let d = (params as? [Any])?.first.flatMap(number), d > 0 { facts.difficulty = d }
    case "mining.set_target":
      if let t = (params as? [Any])?.first as? String, let h = ShareTargets.hashesFor256BitTarget(t) {
        facts.hashesPerShare = h
      }
    default: break
    }
  }

  private static func note(result: Any, id: Any?, family: PoolFamily, into facts: inout Facts) {
    if let r = result as? [String: Any] {
      if let job = r["job"] as? [String: Any], job["blob"] is String, job["job_id"] != nil {
        noteJob(job, into: &facts)
        take("job", "answered the login with a job", into: &facts)
      } else if family == .cryptonote, (r["status"] as? String)?.uppercased() == "OK", r["id"] != nil {
        take("login accepted", "accepted the login without a job", into: &facts)
      }
    } else if let r = result as? [Any] {
      if r.count >= 3, r.prefix(3).allSatisfy({ ($0 as? String)?.hasPrefix("0x") == true }),
        let header = r[0] as? String, header.count == 66
      {
        facts.ethash = true
        if let boundary = r[2] as? String {
          facts.hashesPerShare = ShareTargets.hashesFor256BitTarget(boundary)
        }
        take("work", "answered eth_getWork with work", into: &facts)
      } else if r.count >= 2, r[0] is [Any] || r[0] is NSNull, r[1] is String {
        if "\(r[0])".contains("EthereumStratum") { facts.ethash = true }
        take("subscribe", "answered mining.subscribe with a subscription and an extranonce", into: &facts)
      }
    } else if family == .ethProxy, result as? Bool == true, (id as? Int) == 1 {
      take("login accepted", "accepted eth_submitLogin", into: &facts)
    }
  }

  private static func noteJob(_ job: [String: Any], into facts: inout Facts) {
    if let algo = job["algo"] as? String, !algo.isEmpty { facts.algorithm = String(algo.prefix(32)) }
    if let t = job["target"] as? String, let d = ShareTargets.cryptoNoteDifficulty(t) {
      facts.difficulty = d
      facts.hashesPerShare = d
    }
  }

  private static func number(_ v: Any) -> Double? {
    if let n = v as? NSNumber { return n.doubleValue }
    if let s = v as? String { return Double(s) }
    return nil
  }

  /// Up to 160 bytes, unprintable ones as dots.
  static func printable<S: Collection>(_ bytes: S) -> String where S.Element == UInt8 {
    String(
      decoding: bytes.prefix(160).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
  }
}
