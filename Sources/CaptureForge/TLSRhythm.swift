import Foundation

/// Encrypted flows as records of given sizes at given moments: what an encrypted miner (or a
/// look-alike) shows a gateway once the handshake is over.
public enum TLSRhythm {
  /// Exponential gaps from a fixed seed: the same capture every run.
  public struct Gaps {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next(mean: Double) -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let u = Double(state >> 11) / Double(1 << 53)
      return -mean * log(1 - u)
    }
  }

  /// A TLS flow: hello, the server's flight, then (seconds, from client, size) records.
  public static func flow(
    _ w: PcapWriter, client: Peer, server: Peer, startNs: UInt64, _ records: [(Double, Bool, Int)]
  ) {
    let c = Conversation(writer: w, client: client, server: server, startNs: startNs)
    c.send(fromClient: true, TLSClientHello.record(serverName: "www.example.org").map { $0 })
    c.send(fromClient: false, [0x16, 0x03, 0x03] + Array(repeating: 0x42, count: 1200))
    c.send(fromClient: true, [0x17, 0x03, 0x03] + Array(repeating: 0x43, count: 600))
    var at = 0.0
    for (t, fromClient, size) in records.sorted(by: { $0.0 < $1.0 }) {
      c.advance(seconds: t - at)
      at = t
      c.send(fromClient: fromClient, [0x17, 0x03, 0x03] + Array(repeating: 0x44, count: size - 3))
    }
  }

  /// A miner: submits at random moments (mean `mean` s) answered after 20 ms, a job pushed
  /// every minute.
  public static func minerRecords(
    seed: UInt64, submits: Int, mean: Double, submit: Int, answer: Int, push: Int
  ) -> [(Double, Bool, Int)] {
    var g = Gaps(state: seed)
    var out: [(Double, Bool, Int)] = []
    var t = 5.0
    for i in 0..<submits {
      t += g.next(mean: mean)
      out.append((t, true, submit + i % 2))
      out.append((t + 0.02, false, answer + i % 2))
    }
    var p = 10.0
    while p < t {
      out.append((p + 0.5, false, push))
      p += 60
    }
    return out
  }
}
