import Foundation

/// Power and energy from a hashrate: watts per hash per second of the hardware that typically
/// mines each algorithm (signatures/energy.txt), with a range from the best to the worst
/// hardware listed, widened by the hashrate's own interval.
public struct Efficiency: Sendable, Equatable {
  /// Joules per hash (watts per hash per second): best, typical, worst hardware.
  public let best: Double
  public let typical: Double
  public let worst: Double
}

public struct PowerEstimate: Sendable, Equatable {
  public let watts: Double
  public let low: Double
  public let high: Double

  /// typical × rate; low = best hardware at the interval's low end; high = worst at its high end.
  public static func from(_ h: HashrateEstimate, _ e: Efficiency) -> PowerEstimate {
    PowerEstimate(watts: h.rate * e.typical, low: h.low * e.best, high: h.high * e.worst)
  }

  public static func + (a: PowerEstimate, b: PowerEstimate) -> PowerEstimate {
    PowerEstimate(watts: a.watts + b.watts, low: a.low + b.low, high: a.high + b.high)
  }

  public static let zero = PowerEstimate(watts: 0, low: 0, high: 0)

  public var kWhPerDay: Double { watts * 24 / 1000 }
  public var kWhPerYear: Double { kWhPerDay * 365 }
}

/// Conversion factors for reading a report against the provinces' own: kilograms of standard
/// coal and of CO2 per kWh (defaults as the 2021 provincial figures used them).
public struct EnergyFactors: Sendable, Equatable {
  public var coalKgPerKWh = 0.404
  public var co2KgPerKWh = 1.0
  public init() {}
}

extension Signatures {
  static let energyUnits: [String: Double] = [
    "J/TH": 1e-12, "J/GH": 1e-9, "J/MH": 1e-6, "J/kH": 1e-3, "J/H": 1,
    "J/kSol": 1e-3, "J/Sol": 1,
  ]

  /// Reads energy.txt: `<algorithm> <unit> <best> <typical> <worst> <source>`.
  static func loadEnergy(_ url: URL) throws -> [String: Efficiency] {
    var out: [String: Efficiency] = [:]
    for (n, f) in try dataLines(url) {
      guard f.count >= 6, let scale = energyUnits[f[1]], let b = Double(f[2]), let t = Double(f[3]),
        let w = Double(f[4]), b > 0, b <= t, t <= w, w.isFinite
      else {
        throw MinewatchError.signatures(
          "\(url.path):\(n): expected <algorithm> <J/TH|J/GH|J/MH|J/kH|J/H|J/kSol|J/Sol> <best> <typical> <worst> <source>, best ≤ typical ≤ worst"
        )
      }
      out[f[0].lowercased()] = Efficiency(best: b * scale, typical: t * scale, worst: w * scale)
    }
    return out
  }
}
