import Foundation

/// A hashrate from shares: Σ hashes per share / window, with a 95 % interval for the share
/// count N treated as Poisson. The count bounds are exact (the λ at which N or more, resp. N
/// or fewer, events have probability 2.5 %), found by bisection on the Poisson CDF.
public struct HashrateEstimate: Sendable, Equatable {
  public let rate: Double
  public let low: Double
  public let high: Double

  /// nil when nothing can honestly be said: no share, no known weight, or a window under 1 s.
  public static func from(hashes: Double, shares: Int, seconds: Double) -> HashrateEstimate? {
    guard shares > 0, hashes > 0, seconds >= 1 else { return nil }
    let (lowCount, highCount) = poissonInterval(shares)
    let perShare = hashes / Double(shares)
    return HashrateEstimate(
      rate: hashes / seconds, low: perShare * lowCount / seconds, high: perShare * highCount / seconds)
  }

  /// P(X ≤ k) for X ~ Poisson(λ), summed in log space so large λ does not underflow.
  static func poissonCDF(_ k: Int, _ lambda: Double) -> Double {
    var term = -lambda  // log of e^-λ λ^0 / 0!
    var sum = exp(term)
    if k > 0 {
      for i in 1...k {
        term += log(lambda) - log(Double(i))
        sum += exp(term)
      }
    }
    return min(sum, 1)
  }

  /// The exact 95 % interval of the Poisson mean after observing n events.
  static func poissonInterval(_ n: Int) -> (Double, Double) {
    func solve(_ f: (Double) -> Double, _ lo0: Double, _ hi0: Double) -> Double {
      var lo = lo0
      var hi = hi0
      for _ in 0..<100 {
        let mid = (lo + hi) / 2
        if f(mid) > 0 { lo = mid } else { hi = mid }
      }
      return (lo + hi) / 2
    }
    let nd = Double(n)
    let span = 10 * sqrt(nd) + 10
    // Lower: P(X ≥ n; λ) = 0.025  ⇔  P(X ≤ n-1; λ) = 0.975 (decreasing in λ).
    let low = solve({ poissonCDF(n - 1, $0) - 0.975 }, 0, nd)
    // Upper: P(X ≤ n; λ) = 0.025.
    let high = solve({ poissonCDF(n, $0) - 0.025 }, nd, nd + span)
    return (low, high)
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
    if x > 0 && x < 1 {  // a single CPU's watts, a weak miner's hashes: milli, micro
      for small in ["m", "µ", "n"] {
        x *= 1000
        if x >= 1 || small == "n" {
          let digits = x >= 100 ? "%.0f" : x >= 10 ? "%.1f" : "%.2f"
          return String(format: digits, x) + " " + small + unit
        }
      }
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

  /// A rate in bits per second given in Mbps, scaled to bps … Gbps.
  public static func mbps(_ v: Double) -> String {
    let bps = v * 1e6
    if bps < 1e3 { return String(format: "%.0f bps", bps) }
    if bps < 1e6 { return String(format: "%.2f kbps", bps / 1e3) }
    if bps < 1e9 { return String(format: "%.2f Mbps", bps / 1e6) }
    return String(format: "%.2f Gbps", bps / 1e9)
  }
}
