import Foundation

/// A large mixed capture for `make bench`: thousands of hosts with TLS downloads, small HTTP
/// exchanges and DNS, interleaved as a gateway sees them, and some dozens of mining sessions.
public struct BenchTraffic {
  public var megabytes = 400
  public var hosts = 4000
  public var miners = 40
  public var concurrentFlows = 3000
  public var seed: UInt64 = 42

  public init() {}

  private struct Flow {
    var client: Peer
    var server: Peer
    var kind: Int  // 0 TLS download, 1 HTTP request, 2 mining
    var step = 0
    var length: Int
    var cseq: UInt32 = 1000
    var sseq: UInt32 = 9000
    var shares = 0
  }

  /// xorshift64*: a fixed seed gives the same capture every time.
  private struct Random {
    var s: UInt64
    mutating func next() -> UInt64 {
      s ^= s >> 12
      s ^= s << 25
      s ^= s >> 27
      return s &* 2_685_821_657_736_338_717
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  }

  public func write(to w: PcapWriter) {
    var rng = Random(s: seed | 1)
    var t: UInt64 = 1_763_900_000 * 1_000_000_000
    let limit = megabytes << 20
    var written = 0
    var nextPort: UInt16 = 20000
    func host(_ i: Int) -> [UInt8] { [10, 40, UInt8((i >> 8) & 0xff), UInt8(i & 0xff)] }
    func newFlow(_ kind: Int) -> Flow {
      nextPort = nextPort == 65000 ? 20000 : nextPort + 1
      let c = Peer(address: host(rng.below(hosts)), port: nextPort)
      let server: Peer
      switch kind {
      case 2: server = Peer(address: [203, 0, 113, UInt8(1 + rng.below(50))], port: 3333)
      case 1: server = Peer(address: [198, 51, 100, UInt8(1 + rng.below(200))], port: 80)
      default: server = Peer(address: [198, 51, 100, UInt8(1 + rng.below(200))], port: 443)
      }
      return Flow(
        client: c, server: server, kind: kind,
        length: kind == 0 ? 20 + rng.below(300) : kind == 1 ? 4 : Int.max)
    }
    var flows = (0..<concurrentFlows).map { _ in newFlow(rng.below(4) == 0 ? 1 : 0) }
    for i in 0..<miners { flows[i * (concurrentFlows / max(miners, 1))] = newFlow(2) }
    let dnsServer = Peer("10.40.255.53", 53)
    let link = w.link
    var mining = flows.filter { $0.kind == 2 }.map { "\($0.client)" }
    _ = mining
    mining = []
    while written < limit {
      let i = rng.below(flows.count)
      var f = flows[i]
      var frame: [UInt8]
      t += 2000
      if rng.below(50) == 0 {
        // A DNS lookup and its answer.
        let q = Peer(address: host(rng.below(hosts)), port: 53000)
        let name = "cdn\(rng.below(1000)).example.net"
        w.write(
          frame: PacketBuilder.udp(
            link: link, from: q, to: dnsServer, payload: DNSMessage.query(id: 1, name: name)), timeNs: t)
        frame = PacketBuilder.udp(
          link: link, from: dnsServer, to: q,
          payload: DNSMessage.answer(id: 1, name: name, addresses: [[198, 51, 100, 7]], ttl: 60))
        w.write(frame: frame, timeNs: t + 500)
        written += frame.count * 2
        continue
      }
      switch f.kind {
      case 0:  // TLS: hello, then server data with a client ACK every other segment
        if f.step == 0 {
          let hello = TLSClientHello.record(serverName: "cdn\(rng.below(1000)).example.net")
          frame = PacketBuilder.tcp(
            link: link, from: f.client, to: f.server, seq: f.cseq, ack: f.sseq, flags: 0x18, payload: hello)
          f.cseq &+= UInt32(hello.count)
        } else if f.step % 3 == 2 {
          frame = PacketBuilder.tcp(
            link: link, from: f.client, to: f.server, seq: f.cseq, ack: f.sseq, flags: 0x10, payload: [])
        } else {
          let data = [UInt8](repeating: 0x17, count: 1400)
          frame = PacketBuilder.tcp(
            link: link, from: f.server, to: f.client, seq: f.sseq, ack: f.cseq, flags: 0x10, payload: data)
          f.sseq &+= 1400
        }
      case 1:  // HTTP: request, response, ACK
        if f.step == 0 {
          let req = Array(
            "GET /index.html HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: curl/8.0\r\n\r\n".utf8)
          frame = PacketBuilder.tcp(
            link: link, from: f.client, to: f.server, seq: f.cseq, ack: f.sseq, flags: 0x18, payload: req)
          f.cseq &+= UInt32(req.count)
        } else if f.step % 2 == 1 {
          let body =
            Array("HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n".utf8)
            + [UInt8](repeating: 0x41, count: 600)
          frame = PacketBuilder.tcp(
            link: link, from: f.server, to: f.client, seq: f.sseq, ack: f.cseq, flags: 0x18, payload: body)
          f.sseq &+= UInt32(body.count)
        } else {
          frame = PacketBuilder.tcp(
            link: link, from: f.client, to: f.server, seq: f.cseq, ack: f.sseq, flags: 0x10, payload: [])
        }
      default:  // mining: a job now and then, a share and its answer
        let line: String
        let fromClient: Bool
        switch f.step % 3 {
        case 0 where f.step == 0:
          line = #"{"id": 2, "method": "mining.authorize", "params": ["bench.rig\#(i)", "x"]}"#
          fromClient = true
        case 0:
          line =
            #"{"method": "mining.submit", "params": ["bench.rig\#(i)", "1", "00000000", "6b048917", "2cf90681"], "id":4}"#
          fromClient = true
          f.shares += 1
        case 1:
          line =
            f.step == 1
            ? #"{"id":null,"method":"mining.set_difficulty","params":[0.5]}"#
            : #"{"id":4,"result":true,"error":null}"#
          fromClient = false
        default:
          line = Scenarios.notify(job: f.step)
          fromClient = false
        }
        let bytes = Array((line + "\n").utf8)
        if fromClient {
          frame = PacketBuilder.tcp(
            link: link, from: f.client, to: f.server, seq: f.cseq, ack: f.sseq, flags: 0x18, payload: bytes)
          f.cseq &+= UInt32(bytes.count)
        } else {
          frame = PacketBuilder.tcp(
            link: link, from: f.server, to: f.client, seq: f.sseq, ack: f.cseq, flags: 0x18, payload: bytes)
          f.sseq &+= UInt32(bytes.count)
        }
      }
      w.write(frame: frame, timeNs: t)
      written += frame.count + 16
      f.step += 1
      // Mining flows only speak now and then; finished flows make room for new ones.
      if f.kind == 2 {
        flows[i] = f
        continue
      }
      flows[i] = f.step >= f.length ? newFlow(rng.below(4) == 0 ? 1 : 0) : f
    }
  }
}
