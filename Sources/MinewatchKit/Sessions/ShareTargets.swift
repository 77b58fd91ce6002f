import Foundation

/// What one share is worth, as the pool last set it.
enum ShareWeight: Equatable {
  /// A Stratum difficulty, worth difficulty × the algorithm's multiplier.
  case difficulty(Double)
  /// Already in hashes (a 256-bit target, or a CryptoNote target).
  case hashes(Double)
}

enum ShareTargets {
  static let twoTo256 = 0x1p256

  /// A 256-bit big-endian hex target (Equihash/KawPow `mining.set_target`, ETH boundary):
  /// hashes per share = 2^256 / target.
  static func hashesFor256BitTarget(_ hex: String) -> Double? {
    var h = Substring(hex)
    if h.hasPrefix("0x") || h.hasPrefix("0X") { h = h.dropFirst(2) }
    guard h.count <= 64, let t = hexValue(h), t > 0 else { return nil }
    let full = t * pow(16, Double(64 - h.count))  // a short hex string is the high digits
    return twoTo256 / full
  }

  /// A CryptoNote target: 4 little-endian bytes (t32) give difficulty 0xFFFFFFFF / t32 with
  /// integer division, 8 bytes (t64) give 0xFFFFFFFFFFFFFFFF / t64 (xmrig Job.cpp).
  static func cryptoNoteDifficulty(_ hex: String) -> Double? {
    guard hex.count == 8 || hex.count == 16 else { return nil }
    var bytes: [UInt8] = []
    var it = hex.makeIterator()
    while let hi = it.next(), let lo = it.next() {
      guard let a = hi.hexDigitValue, let b = lo.hexDigitValue else { return nil }
      bytes.append(UInt8(a * 16 + b))
    }
    var v: UInt64 = 0
    for (i, b) in bytes.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
    guard v > 0 else { return nil }
    if bytes.count == 4 { return Double(UInt64(0xFFFF_FFFF) / v) }
    return Double(UInt64.max / v)
  }
}
