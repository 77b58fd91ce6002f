import Foundation

/// The account a getwork or ETH-proxy miner puts in its HTTP request instead of a login
/// message. Forms seen in miners' and pools' instructions:
/// - `/?miner=RATE@WALLET@WORKER` (ethpool/ethermine getwork: the rate in MH/s, for the pool's
///   statistics),
/// - `/WALLET/WORKER[/EMAIL]` (nanopool, dwarfpool ETH), `/WALLET.WORKER`,
/// - `Authorization: Basic base64(user:password)` (bitcoind-style getwork, RFC 7617).
public enum HTTPLogin {
  public struct Found: Equatable, Sendable {
    public var login: String
    /// A rate the miner stated in the URL, in H/s.
    public var statedRate: Double?
  }

  public static func parse(target: String?, basic: String?) -> Found? {
    if let target, let found = fromTarget(target) { return found }
    if let basic, let user = basicUser(basic) { return Found(login: user, statedRate: nil) }
    return nil
  }

  static func fromTarget(_ raw: String) -> Found? {
    // An absolute form (proxies) keeps only its path and query.
    var target = Substring(raw)
    if let scheme = target.range(of: "://") {
      target = target[scheme.upperBound...]
      target = target.firstIndex(of: "/").map { target[$0...] } ?? ""
    }
    let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    let path = decode(parts.first ?? "")
    if parts.count > 1 {
      for pair in parts[1].split(separator: "&") {
        let kv = pair.split(separator: "=", maxSplits: 1)
        guard kv.count == 2, ["miner", "worker", "user", "login", "wallet"].contains(kv[0].lowercased())
        else { continue }
        if let found = fromAtForm(decode(kv[1])) { return found }
      }
    }
    let trimmed = path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    guard !trimmed.isEmpty, trimmed.count <= 256 else { return nil }
    let head = trimmed.split(whereSeparator: { $0 == "/" || $0 == "." }).first.map(String.init) ?? ""
    // Only a path that begins with an address is an account: "/api/v1" is not.
    guard LoginParser.looksLikeWallet(head) else { return nil }
    return Found(login: trimmed, statedRate: nil)
  }

  /// RATE@WALLET@WORKER, WALLET@WORKER or a bare login.
  static func fromAtForm(_ v: String) -> Found? {
    let fields = v.split(separator: "@").map(String.init)
    guard !fields.isEmpty, v.count <= 256 else { return nil }
    var rate: Double?
    var rest = fields[...]
    // A decimal rate first (Double alone would also read "0x…" as a hexadecimal number).
    if fields.count >= 2, fields[0].allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
      let mhs = Double(fields[0]), mhs.isFinite
    {
      rate = mhs * 1e6
      rest = fields.dropFirst()
    }
    guard let account = rest.first, !account.isEmpty else { return nil }
    let worker = rest.dropFirst().first
    return Found(login: worker.map { "\(account)/\($0)" } ?? account, statedRate: rate)
  }

  static func basicUser(_ token: String) -> String? {
    guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else {
      return nil
    }
    let user = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    return user.isEmpty ? nil : String(user.prefix(256))
  }

  private static func decode<S: StringProtocol>(_ s: S) -> String {
    String(s).removingPercentEncoding ?? String(s)
  }
}

extension MiningSession {
  /// The HTTP request around a mining body: its Host names the pool (listed or not), its target
  /// or credentials the account.
  func noteHTTP(_ h: HTTPRequestInfo, fromA: Bool) {
    guard clientIsA == nil || clientIsA == fromA else { return }  // requests come from the miner
    if httpHost == nil, let host = h.host, !host.isEmpty {
      httpHost = host
      evidence.insert("http-host:" + host)
    }
    if login == nil, let found = HTTPLogin.parse(target: h.target, basic: h.basic) {
      login = found.login
      evidence.insert(
        h.basic != nil && HTTPLogin.fromTarget(h.target ?? "") == nil ? "http-basic-auth" : "http-url")
      if let r = found.statedRate { noteStatedRate(r) }
    }
  }
}
