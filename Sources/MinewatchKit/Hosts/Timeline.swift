import Foundation

/// A session's progress, sampled on packet time: bytes the miner sent and shares it submitted so
/// far. Bounded: when full, every other sample goes (the series stays cumulative, only coarser).
struct TimelineSamples: Sendable {
  struct Sample: Sendable, Equatable {
    var ns: UInt64
    var egressBytes: UInt64
    var shares: Int
  }
  // 64 samples cover the at most 120-point timeline of any session well, and 65,536 open sessions
  // then cost at most 100 MiB of samples.
  static let capacity = 64
  private(set) var samples: [Sample] = []

  mutating func add(_ s: Sample) {
    if let last = samples.last, last.ns >= s.ns {
      samples[samples.count - 1] = Sample(
        ns: last.ns, egressBytes: max(last.egressBytes, s.egressBytes), shares: max(last.shares, s.shares))
      return
    }
    if samples.count >= Self.capacity {
      samples = samples.enumerated().filter { $0.offset % 2 == 0 || $0.offset == samples.count - 1 }.map(
        \.element)
    }
    samples.append(s)
  }

  /// The cumulative values at time t (the last sample at or before it).
  func at(_ t: UInt64) -> (egressBytes: UInt64, shares: Int) {
    var lo = 0
    var hi = samples.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if samples[mid].ns <= t { lo = mid + 1 } else { hi = mid }
    }
    guard lo > 0 else { return (0, 0) }
    return (samples[lo - 1].egressBytes, samples[lo - 1].shares)
  }
}

extension ScanReport {
  /// One point of a host's timeline: the interval that ends at `ns`.
  public struct TimelinePoint: Sendable {
    public var ns: UInt64
    public var egressMbps: Double
    /// nil when the host's shares are of several algorithms or of unknown worth.
    public var hashrate: Double?
  }

  /// At most this many points per host, at least a minute apart; and at most a million in a
  /// report, so that tens of thousands of (fake) hosts get coarser timelines, not a huge report.
  static let timelinePoints = 120
  static let timelinePointsPerReport = 1_000_000

  static func timelinePoints(hosts: Int) -> Int {
    max(4, min(timelinePoints, timelinePointsPerReport / max(hosts, 1)))
  }

  /// The grid of interval ends for a capture.
  static func timelineGrid(startNs: UInt64, endNs: UInt64, points: Int = timelinePoints) -> [UInt64] {
    guard endNs > startNs, points > 0 else { return [] }
    let step = max(60_000_000_000, (endNs - startNs + UInt64(points) - 1) / UInt64(points))
    var out: [UInt64] = []
    var t = startNs
    while t < endNs {
      // A remainder under half a step joins the last interval rather than make a sliver.
      t = endNs - min(t + step, endNs) < step / 2 ? endNs : t + step
      out.append(t)
    }
    return out
  }

  /// A host's Mbps and hashrate per interval: each session's bytes and shares in the interval,
  /// the shares weighted by the session's hashes per share.
  static func timeline(
    sessions: [(samples: TimelineSamples, hashesPerShare: Double?, algorithm: String?)], grid: [UInt64],
    startNs: UInt64
  ) -> [TimelinePoint] {
    let algorithms = Set(sessions.filter { $0.hashesPerShare != nil }.map { $0.algorithm ?? "unknown" })
    let rateKnown =
      algorithms.count == 1
      && sessions.allSatisfy { $0.hashesPerShare != nil || $0.samples.samples.allSatisfy { $0.shares == 0 } }
    var out: [TimelinePoint] = []
    var previous = startNs
    for end in grid {
      let seconds = Double(end - previous) / 1e9
      var bytes: UInt64 = 0
      var hashes = 0.0
      for s in sessions {
        let a = s.samples.at(previous)
        let b = s.samples.at(end)
        bytes += b.egressBytes &- min(a.egressBytes, b.egressBytes)
        hashes += Double(max(b.shares - a.shares, 0)) * (s.hashesPerShare ?? 0)
      }
      out.append(
        TimelinePoint(
          ns: end, egressMbps: seconds > 0 ? Double(bytes) * 8 / seconds / 1e6 : 0,
          hashrate: rateKnown && seconds > 0 ? hashes / seconds : nil))
      previous = end
    }
    return out
  }
}
