/// Time covered by a host's sessions: disjoint [start, end] intervals in packet-time
/// nanoseconds. Overlapping sessions (concurrent rigs behind one address) count their common
/// time once; a reconnect's gap counts not at all. Bounded: past `maxIntervals` the two
/// intervals with the shortest gap between them merge, which can only lengthen the covered
/// time, so a host's rate read from it errs low, never high.
public struct SpanSet: Sendable, Equatable {
  public private(set) var intervals: [(start: UInt64, end: UInt64)] = []
  static let maxIntervals = 256

  public init() {}

  public static func == (a: SpanSet, b: SpanSet) -> Bool {
    a.intervals.elementsEqual(b.intervals) { $0.start == $1.start && $0.end == $1.end }
  }

  /// Adds [start, end] (an end before its start is taken as the start).
  public mutating func insert(_ start: UInt64, _ end: UInt64) {
    var lo = start
    var hi = max(start, end)
    // Intervals are sorted by start; find those that touch the new one and fold them in.
    var i = intervals.partitionPoint { $0.end < lo }
    var j = i
    while j < intervals.count && intervals[j].start <= hi {
      lo = min(lo, intervals[j].start)
      hi = max(hi, intervals[j].end)
      j += 1
    }
    intervals.replaceSubrange(i..<j, with: [(lo, hi)])
    if intervals.count > Self.maxIntervals {
      i = (0..<intervals.count - 1).min { gap($0) < gap($1) }!
      intervals.replaceSubrange(i...i + 1, with: [(intervals[i].start, intervals[i + 1].end)])
    }
  }

  /// Adds every interval of `other` (a sharded scan joining a host's figures).
  public mutating func formUnion(_ other: SpanSet) {
    for iv in other.intervals { insert(iv.start, iv.end) }
  }

  private func gap(_ i: Int) -> UInt64 { intervals[i + 1].start &- intervals[i].end }

  /// Seconds covered.
  public var seconds: Double { Double(intervals.reduce(0) { $0 + ($1.end - $1.start) }) / 1e9 }
}

extension Array {
  /// The first index whose element fails `before` (the array is partitioned by it).
  func partitionPoint(_ before: (Element) -> Bool) -> Int {
    var lo = 0
    var hi = count
    while lo < hi {
      let mid = (lo + hi) / 2
      if before(self[mid]) { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }
}
