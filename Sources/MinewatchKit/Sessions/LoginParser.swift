/// Splits a miner's login into wallet (or pool account) and worker. Formats seen in real
/// traffic: `account.worker` (Braiins, litecoinpool), `WALLET.worker` (Flypool, 2Miners),
/// `0xWALLET/worker/email` (Nanopool ETH), `WALLET.paymentid.worker` (old CryptoNote pools),
/// `WALLET+difficulty` (fixed-difficulty suffix).
public enum LoginParser {
  public struct Parts: Equatable, Sendable {
    public var wallet: String?
    public var account: String?
    public var worker: String?
  }

  public static func split(_ login: String) -> Parts {
    var head: Substring
    var worker: Substring?
    if login.contains("/") {
      let parts = login.split(separator: "/", omittingEmptySubsequences: false)
      head = parts[0]
      if parts.count > 1, !parts[1].isEmpty { worker = parts[1] }
    } else {
      let parts = login.split(separator: ".", omittingEmptySubsequences: false)
      head = parts[0]
      if parts.count > 1, let last = parts.last, !last.isEmpty { worker = last }
    }
    head = head.split(separator: "+").first ?? head
    worker = worker.map { $0.split(separator: "+").first ?? $0 }
    let h = String(head)
    if h.isEmpty { return Parts(wallet: nil, account: nil, worker: worker.map(String.init)) }
    return looksLikeWallet(h)
      ? Parts(wallet: h, account: nil, worker: worker.map(String.init))
      : Parts(wallet: nil, account: h, worker: worker.map(String.init))
  }

  private static let base58 = Set("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")

  /// Address shapes of the coins minewatch reports (length and alphabet, not checksums).
  public static func looksLikeWallet(_ s: String) -> Bool {
    let lower = s.lowercased()
    if lower.hasPrefix("0x") {  // Ethereum family: 20 bytes in hex
      return s.count == 42 && s.dropFirst(2).allSatisfy(\.isHexDigit)
    }
    for prefix in ["bc1", "ltc1", "tb1", "bitcoincash:", "kaspa:"] where lower.hasPrefix(prefix) {
      return s.count >= 25 && s.count <= 110
    }
    guard s.allSatisfy({ base58.contains($0) }) else { return false }
    if s.count == 95 || s.count == 106 { return s.first == "4" || s.first == "8" }  // Monero
    return (25...36).contains(s.count) || (s.count >= 35 && s.count <= 52 && s.hasPrefix("t1"))
  }
}
