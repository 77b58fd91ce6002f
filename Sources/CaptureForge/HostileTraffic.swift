import Foundation

/// Captures an attacker would send at a gateway sensor, for the resource-bound benchmarks:
/// each aims at one table or buffer of the detector.
public enum HostileTraffic: String, CaseIterable, Sendable {
  /// One million distinct flows: SYNs from random sources.
  case synflood
  /// One hundred thousand flows that each look like stratum.
  case stratum
  /// Flows sending megabytes of JSON-looking bytes with no newline.
  case endless
  /// Mining lines nested thousands deep, and lines of maximal size.
  case deepjson
  /// DNS answers for pool names, each with 64 addresses, from many resolvers.
  case dnsflood

  public func write(to w: PcapWriter) {
    var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
      rng ^= rng >> 12
      rng ^= rng << 25
      rng ^= rng >> 27
      return rng &* 2_685_821_657_736_338_717
    }
    var t: UInt64 = 1_763_900_000 * 1_000_000_000
    let link = w.link
    func randomHost() -> [UInt8] { [10, UInt8(next() % 256), UInt8(next() % 256), UInt8(1 + next() % 254)] }
    switch self {
    case .synflood:
      for _ in 0..<1_000_000 {
        t += 1000
        let from = Peer(address: randomHost(), port: UInt16(1024 + next() % 60000))
        let to = Peer(address: [203, 0, 113, UInt8(next() % 256)], port: UInt16(1 + next() % 65535))
        w.write(
          frame: PacketBuilder.tcp(
            link: link, from: from, to: to, seq: UInt32(truncatingIfNeeded: next()), ack: 0, flags: 0x02,
            payload: []), timeNs: t)
      }
    case .stratum:
      let notify = Array((Scenarios.notify(job: 1) + "\n").utf8)
      for i in 0..<100_000 {
        t += 10_000
        let c = Peer(address: randomHost(), port: UInt16(1024 + i % 60000))
        let p = Peer(address: [198, 51, 100, UInt8(i % 256)], port: 3333)
        let sub = Array(#"{"id":1,"method":"mining.subscribe","params":["x\#(i)"]}"#.utf8) + [0x0A]
        w.write(
          frame: PacketBuilder.tcp(link: link, from: c, to: p, seq: 1, ack: 1, flags: 0x18, payload: sub),
          timeNs: t)
        w.write(
          frame: PacketBuilder.tcp(
            link: link, from: p, to: c, seq: 1, ack: 1 + UInt32(sub.count), flags: 0x18, payload: notify),
          timeNs: t + 1000)
      }
    case .endless:
      let chunk = Array(
        #"{"method":"mining.submit","params":["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"#.utf8)
      let payload = [UInt8]((0..<1400).map { chunk[$0 % chunk.count] })
      for flow in 0..<20 {
        let c = Peer(address: [10, 9, 0, UInt8(flow + 1)], port: 40000)
        let p = Peer("198.51.100.77", 3333)
        var seq: UInt32 = 1
        // A real session first, so the matcher holds the flow as mining and reads every byte.
        let sub = Array(#"{"id":1,"method":"mining.subscribe","params":["x"]}"#.utf8) + [0x0A]
        w.write(
          frame: PacketBuilder.tcp(link: link, from: c, to: p, seq: seq, ack: 1, flags: 0x18, payload: sub),
          timeNs: t)
        seq &+= UInt32(sub.count)
        for _ in 0..<3_500 {  // ≈ 5 MB each, never a newline
          t += 2000
          w.write(
            frame: PacketBuilder.tcp(
              link: link, from: c, to: p, seq: seq, ack: 1, flags: 0x10, payload: payload), timeNs: t)
          seq &+= 1400
        }
      }
    case .deepjson:
      let c = Peer("10.9.1.1", 40001)
      let p = Peer("198.51.100.78", 3333)
      var seq: UInt32 = 1
      func send(_ line: [UInt8]) {
        var i = 0
        while i < line.count {
          let seg = Array(line[i..<min(i + 1400, line.count)])
          t += 2000
          w.write(
            frame: PacketBuilder.tcp(link: link, from: c, to: p, seq: seq, ack: 1, flags: 0x18, payload: seg),
            timeNs: t)
          seq &+= UInt32(seg.count)
          i += 1400
        }
      }
      send(Array(#"{"id":1,"method":"mining.subscribe","params":["x"]}"#.utf8) + [0x0A])
      let deep =
        Array(#"{"id":2,"method":"mining.submit","params":"#.utf8) + [UInt8](repeating: 0x5B, count: 4000)
        + [UInt8](repeating: 0x5D, count: 4000) + Array("}\n".utf8)
      let wide =
        Array(#"{"id":3,"method":"mining.submit","params":["#.utf8)
        + Array((0..<1300).map { _ in #""ab","# }.joined().utf8) + Array(#""z"]}"#.utf8) + [0x0A]
      for i in 0..<20_000 { send(i % 2 == 0 ? deep : wide) }
    case .dnsflood:
      for i in 0..<100_000 {
        t += 5000
        let resolver = Peer(address: [10, 8, UInt8(i % 200), 53], port: 53)
        let host = Peer(address: randomHost(), port: 53000)
        let addresses = (0..<64).map { _ in [203, 0, UInt8(next() % 256), UInt8(next() % 256)] as [UInt8] }
        let name = "x\(next() % 1_000_000).supportxmr.com"
        w.write(
          frame: PacketBuilder.udp(
            link: link, from: resolver, to: host,
            payload: DNSMessage.answer(id: UInt16(i & 0xffff), name: name, addresses: addresses, ttl: 3600)),
          timeNs: t)
      }
    }
  }
}
