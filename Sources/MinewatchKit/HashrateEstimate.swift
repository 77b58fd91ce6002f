import Foundation

/// A hashrate from shares: Σ hashes per share / window, with a 95 % interval for the share
/// count N treated as Poisson (Wilson–Hilferty approximation of the exact chi-square bounds,
/// within 1 % of them from N = 1 on).
public struct HashrateEstimate: Sendable, Equatable {
  public let rate: Double
  public let low: Double
  public let high: Double

  /// nil when nothing can honestly be said: no share, no known weight, or a window under 1 s.
  public static func from(hashes: Double, shares: Int, seconds: Double) -> HashrateEstimate? {
    guard shares > 0, hashes > 0, seconds >= 1 else { return nil }
    let n = Double(shares)
    let z = 1.959964
    let lowCount = n * pow(1 - 1 / (9 * n) - z / (3 * sqrt(n)), 3)
    let m = n + 1
    let highCount = m * pow(1 - 1 / (9 * m) + z / (3 * sqrt(m)), 3)
    let perShare = hashes / n
    return HashrateEstimate(
      rate: hashes / seconds, low: max(0, perShare * lowCount / seconds),
      high: perShare * highCount / seconds)
  }
}

/// Auto-scaled rates and sizes for people to read.
public enum Units {
  public static func rate(_ v: Double?, unit: String = "H/s") -> String {
    guard let v else { return "unknown" }
    let prefixes = ["", "k", "M", "G", "T", "P", "E"]
    var x = v
    var i = 0
    while x >= 1000 && i < prefixes.count - 1 {
      x /= 1000
      i += 1
    }
    let digits = x >= 100 ? "%.0f" : x >= 10 ? "%.1f" : "%.2f"
    return String(format: digits, x) + " " + prefixes[i] + unit
  }

  public static func bytes(_ v: UInt64) -> String {
    let prefixes = ["B", "KB", "MB", "GB", "TB"]
    var x = Double(v)
    var i = 0
    while x >= 1000 && i < prefixes.count - 1 {
      x /= 1000
      i += 1
    }
    return i == 0 ? "\(v) B" : String(format: "%.1f", x) + " " + prefixes[i]
  }

  public static func mbps(_ v: Double) -> String { String(format: "%.3f Mbps", v) }
}
