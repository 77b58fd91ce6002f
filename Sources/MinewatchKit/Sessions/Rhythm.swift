import MinewatchCore

/// The rhythm of an encrypted flow, as the C core followed it (rhythm.c): request/answer pairs
/// and server pushes by size, with how regular their gaps were.
public struct RhythmStats: Sendable {
  public struct Kind: Sendable, Equatable {
    public var size: Int
    public var answer: Int
    public var count: Int
    /// Mean gap between consecutive ones, and its coefficient of variation (σ/mean): about 1 for
    /// events at random moments (shares), near 0 for a timer (keepalives, telemetry).
    public var gapMean: Double
    public var gapCV: Double
  }

  public var firstNs: UInt64
  public var lastNs: UInt64
  public var rttNs: UInt64
  public var clientSegments: Int
  public var serverSegments: Int
  public var pairs: [Kind]
  public var pushes: [Kind]
  public var bytesClient: UInt64
  public var bytesServer: UInt64
  /// The latest pushes (at most 16), oldest first: time and size.
  public var recentPushes: [(ns: UInt64, size: Int)]
  public var seconds: Double { Double(lastNs &- firstNs) / 1e9 }

  init(_ r: mw_rhythm) {
    func kinds(_ t: (mw_rhythm_kind, mw_rhythm_kind, mw_rhythm_kind, mw_rhythm_kind)) -> [Kind] {
      [t.0, t.1, t.2, t.3].filter { $0.count > 0 }.map { k in
        let gaps = Double(max(Int(k.count) - 1, 0))
        let mean = gaps > 0 ? k.gap_sum / gaps : 0
        let variance = gaps > 1 ? max(k.gap_sq / gaps - mean * mean, 0) : 0
        return Kind(
          size: Int(k.size), answer: Int(k.answer), count: Int(k.count), gapMean: mean,
          gapCV: mean > 0 ? variance.squareRoot() / mean : 0)
      }.sorted { $0.count > $1.count }
    }
    firstNs = r.first_ns
    lastNs = r.last_ns
    rttNs = r.rtt_ns
    clientSegments = Int(r.client_segments)
    serverSegments = Int(r.server_segments)
    pairs = kinds(r.pairs)
    pushes = kinds(r.pushes)
    bytesClient = r.bytes_client
    bytesServer = r.bytes_server
    let n = Int(MW_RHYTHM_PUSH_TIMES)
    let total = Int(r.push_total)
    let times = withUnsafeBytes(of: r.push_ns) { Array($0.bindMemory(to: UInt64.self)) }
    let sizes = withUnsafeBytes(of: r.push_size) { Array($0.bindMemory(to: UInt16.self)) }
    recentPushes = (max(0, total - n)..<total).map { (times[$0 % n], Int(sizes[$0 % n])) }
  }
}

/// Whether an encrypted flow's rhythm is a miner's, and why. Every threshold is here, with the
/// reason it has the value it has.
public enum RhythmJudge {
  /// Two minutes: enough for ten shares of a miner at a usual pool difficulty and for a job push.
  public static let minSeconds = 120.0
  /// Ten answered submit-like records: fewer say little about a rhythm.
  public static let minPairs = 10
  /// Of the client's records after the handshake, this share must be the submit-like kind: a
  /// miner says little else (an occasional keepalive).
  public static let minPairShare = 0.6
  /// A submit (job id, nonce, result hash; an ETH or Bitcoin submit) with TLS's overhead.
  public static let submitSizes = 100...1200
  /// The pool's answer is short ("OK", true) and shorter than the submit, but it is JSON: a
  /// JSON-RPC result, however terse, and TLS's 21–29 bytes of framing make 40 at least. A
  /// binary protocol's acknowledgement is smaller (MQTT's PUBACK over TLS 1.3: 26 bytes; a real
  /// broker's QoS 1 telemetry at random moments has a miner's rhythm otherwise).
  public static let answerSizes = 40...200
  /// Shares come at random moments: gaps whose σ/mean lies here (1 for a Poisson process);
  /// a timer's telemetry or keepalive is near 0, bursts of an interactive protocol far above.
  public static let gapCVRange = 0.5...2.0
  /// Job pushes: server records no request preceded, at least this many of one size, larger
  /// than an answer and large enough to carry work (a block header or blob in hex, a job id, a
  /// target: hundreds of bytes).
  public static let minPushes = 2
  public static let minPushSize = 150

  public struct Verdict: Sendable, Equatable {
    public var shares: Int
    public var reasons: [String]
  }

  /// The submit-like pair kind and the shares it stands for, when the flow has one (used for a
  /// named pool's encrypted session too, where the name already says it is mining).
  public static func submits(_ r: RhythmStats) -> RhythmStats.Kind? {
    r.pairs.first {
      submitSizes.contains($0.size) && answerSizes.contains($0.answer) && $0.answer < $0.size
    }
  }

  /// A verdict when every sign holds; nil otherwise.
  public static func judge(_ r: RhythmStats) -> Verdict? {
    guard r.seconds >= minSeconds, let s = submits(r), s.count >= minPairs,
      Double(s.count) >= minPairShare * Double(max(r.clientSegments, 1)),
      gapCVRange.contains(s.gapCV),
      let push = r.pushes.first(where: {
        $0.count >= minPushes && $0.size > s.answer && $0.size >= minPushSize
      })
    else { return nil }
    let ms = Double(r.rttNs) / 1e6
    return Verdict(
      shares: s.count,
      reasons: [
        "submit-like records: \(s.count) × ~\(s.size) B, each answered within one round trip"
          + " (\(String(format: "%.0f", ms)) ms) by ~\(s.answer) B",
        "\(push.count) server pushes of ~\(push.size) B that no request preceded",
        "gaps between submits at random moments (σ/mean \(String(format: "%.2f", s.gapCV)), mean "
          + "\(String(format: "%.1f", s.gapMean)) s)",
        "\(Int(r.seconds)) s, \(r.clientSegments) client and \(r.serverSegments) server records",
      ])
  }
}

/// When readable miners' pools pushed jobs, by algorithm (or protocol): bounded, the newest kept.
struct JobTimes {
  static let maxLabels = 16
  static let maxTimes = 512
  /// Pushes this close in time are one event (a block reaching the network).
  static let windowNs: UInt64 = 2_000_000_000
  private(set) var byLabel: [String: [UInt64]] = [:]

  mutating func note(_ label: String, at ns: UInt64) {
    guard byLabel[label] != nil || byLabel.count < Self.maxLabels else { return }
    var times = byLabel[label, default: []]
    times.append(ns)
    if times.count > Self.maxTimes { times.removeFirst(times.count - Self.maxTimes) }
    byLabel[label] = times
  }

  /// The label most of these push times coincide with: at least two, and at least half.
  func coinciding(_ pushes: [UInt64]) -> (label: String, matched: Int)? {
    var best: (String, Int)?
    for (label, times) in byLabel {
      let sorted = times.sorted()
      let matched = pushes.filter { p in
        let i = sorted.partitionPoint { $0 + Self.windowNs < p }
        return i < sorted.count && sorted[i] <= p + Self.windowNs
      }.count
      if matched > (best?.1 ?? 0) { best = (label, matched) }
    }
    guard let (label, matched) = best, matched >= 2, matched * 2 >= pushes.count else { return nil }
    return (label, matched)
  }
}

/// The latest pushes of flows judged by their rhythm, to compare suspects with each other: a
/// coin's new block reaches every miner of it within a second or two, whichever pool they use,
/// so pushes that coincide across encrypted flows are one coin's blocks. Bounded: past
/// `maxFlows` the flow whose last push is oldest goes.
struct SuspectPushes {
  static let maxFlows = 256

  struct Flow {
    var server: Endpoint
    var times: [UInt64]
    var hint: String?
  }

  /// By flow: the engine's index in the upper half, its flow id in the lower.
  private(set) var byFlow: [UInt64: Flow] = [:]

  mutating func note(flow: UInt64, server: Endpoint, times: [UInt64], hint: String?) {
    if byFlow[flow] == nil, byFlow.count >= Self.maxFlows,
      let oldest = byFlow.min(by: { ($0.value.times.last ?? 0) < ($1.value.times.last ?? 0) })
    {
      byFlow.removeValue(forKey: oldest.key)
    }
    byFlow[flow] = Flow(server: server, times: times.sorted(), hint: hint)
  }

  struct Coincidence {
    var flows = 0
    var servers: Set<Endpoint> = []
    var matched = 0
    var hint: String?
  }

  /// Other flows that most of these pushes coincide with (at least two pushes, at least half).
  func coinciding(_ pushes: [UInt64], excluding flow: UInt64) -> Coincidence? {
    var c = Coincidence()
    for (id, other) in byFlow where id != flow {
      let matched = pushes.filter { p in
        let i = other.times.partitionPoint { $0 + JobTimes.windowNs < p }
        return i < other.times.count && other.times[i] <= p + JobTimes.windowNs
      }.count
      guard matched >= 2, matched * 2 >= pushes.count else { continue }
      c.flows += 1
      c.servers.insert(other.server)
      c.matched = max(c.matched, matched)
      c.hint = c.hint ?? other.hint
    }
    return c.flows > 0 ? c : nil
  }
}
