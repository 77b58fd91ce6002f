import CaptureForge
import MinewatchCore
import Testing

/// Reassembly and line framing: segment boundaries, retransmissions, reordering, long lines.
@Suite struct StreamTests {
  let client = Peer("10.31.7.23", 49862)
  let pool = Peer("203.0.113.50", 3333)

  static let lines = [
    #"{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]}"#,
    #"{"id":1,"result":[[["mining.notify","1"]],"0ceeaf07",4],"error":null}"#,
    #"{"id": 2, "method": "mining.authorize", "params": ["mwlab.rig01", "x"]}"#,
    #"{"id":2,"result":true,"error":null}"#,
    #"{"id":null,"method":"mining.set_difficulty","params":[0.005]}"#,
    #"{"method": "mining.submit", "params": ["mwlab.rig01", "dd1c", "00000000", "6b048917", "2cf90681"], "id":4}"#,
    #"{"id":4,"result":true,"error":null}"#,
  ]

  func run(segment: Int?, _ extra: ((Conversation) -> Void)? = nil) -> CoreHarness {
    let w = PcapWriter(link: .ethernet(vlans: []))
    let c = Conversation(writer: w, client: client, server: pool, startNs: 1_000_000_000)
    for (i, l) in Self.lines.enumerated() {
      c.send(fromClient: [0, 2, 5].contains(i), line: l, segment: segment)
    }
    extra?(c)
    let h = CoreHarness()
    h.feed(pcap: [UInt8](w.data))
    return h
  }

  @Test func oneByteSegmentsGiveTheSameLinesAsWholeOnes() {
    let whole = run(segment: nil)
    let drip = run(segment: 1)
    let odd = run(segment: 7)
    #expect(whole.lines.count == Self.lines.count)
    #expect(drip.lines == whole.lines)
    #expect(odd.lines == whole.lines)
    #expect(whole.lines.map(\.text) == Self.lines)
  }

  @Test func retransmissionsAreNotDeliveredTwice() {
    let h = run(segment: nil) { c in
      let segs = c.send(
        fromClient: true,
        Array((#"{"method":"mining.submit","params":["w","1","0","0","0"],"id":5}"# + "\n").utf8))
      for (seq, bytes) in segs {
        c.resend(fromClient: true, seq: seq, bytes)
        c.resend(fromClient: true, seq: seq, bytes)
      }
    }
    #expect(h.lines.filter { $0.method == "mining.submit" }.count == 2)
    #expect(h.anomaly(MW_AN_TCP_RETRANSMISSION) == 2)
  }

  @Test func outOfOrderSegmentsAreReassembled() {
    let h = run(segment: nil) { c in
      c.sendReordered(
        fromClient: true, line: #"{"method":"mining.submit","params":["w","1","0","0","0"],"id":6}"#)
    }
    #expect(h.lines.last?.text == #"{"method":"mining.submit","params":["w","1","0","0","0"],"id":6}"#)
    #expect(h.anomaly(MW_AN_TCP_OUT_OF_ORDER) == 1)
  }

  @Test func severalLinesInOneSegment() {
    let w = PcapWriter(link: .ethernet(vlans: []))
    let c = Conversation(writer: w, client: client, server: pool, startNs: 1_000_000_000)
    c.send(fromClient: true, Array((Self.lines[0] + "\n" + Self.lines[2] + "\n" + Self.lines[5] + "\n").utf8))
    let h = CoreHarness()
    h.feed(pcap: [UInt8](w.data))
    #expect(h.lines.map(\.method) == ["mining.subscribe", "mining.authorize", "mining.submit"])
  }

  @Test func captureStartingMidLineResynchronises() {
    // No handshake, and the first segment starts inside a line: that line is dropped, the
    // pool's next notification is enough.
    let w = PcapWriter(link: .ethernet(vlans: []))
    let c = Conversation(writer: w, client: client, server: pool, startNs: 1_000_000_000, handshake: false)
    c.send(fromClient: false, Array(("00000000000\",true]}\n" + Scenarios.notify(job: 3) + "\n").utf8))
    let h = CoreHarness()
    h.feed(pcap: [UInt8](w.data))
    #expect(h.lines.map(\.method) == ["mining.notify"])
    // No handshake seen: the first sender (the pool) is side a.
    #expect(h.lines.first?.fromA == true)
  }

  @Test func overLongLinesAreCutAndCounted() {
    let h0 = CoreHarness(config: { $0.line_max = 1024 })
    let w = PcapWriter(link: .ethernet(vlans: []))
    let c = Conversation(writer: w, client: client, server: pool, startNs: 1_000_000_000)
    c.send(fromClient: true, line: Self.lines[0])
    c.send(
      fromClient: true,
      line: #"{"method":"mining.submit","params":["w","\#(String(repeating: "ab", count: 3000))"],"id":9}"#)
    c.send(fromClient: true, line: Self.lines[2])
    h0.feed(pcap: [UInt8](w.data))
    #expect(h0.anomaly(MW_AN_LINE_TOO_LONG) == 1)
    #expect(h0.lines.count == 3)
    #expect(h0.lines[1].truncated)
    #expect(h0.lines[2].method == "mining.authorize")
  }

  @Test func nonMiningJSONRPCIsNeverReported() {
    let w = PcapWriter(link: .ethernet(vlans: []))
    let c = Conversation(writer: w, client: client, server: Peer("10.0.0.9", 8080), startNs: 1_000_000_000)
    Scenarios.jsonEcho(c, lines: 20)
    let h = CoreHarness()
    h.feed(pcap: [UInt8](w.data))
    h.flush()
    #expect(h.lines.isEmpty)
    #expect(h.counters.mining_flows == 0)
  }

  @Test func httpGetworkBodyIsALine() {
    let w = PcapWriter(link: .ethernet(vlans: []))
    let c = Conversation(
      writer: w, client: client, server: Peer("198.51.100.9", 8332), startNs: 1_000_000_000)
    let body = #"{"id":1,"method":"getblocktemplate","params":[{"rules":["segwit"]}]}"#
    c.send(
      fromClient: true,
      Array("POST / HTTP/1.1\r\nHost: node\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8),
      segment: 30)
    let h = CoreHarness()
    h.feed(pcap: [UInt8](w.data))
    #expect(h.lines.map(\.method) == ["getblocktemplate"])
  }

  @Test func flowStatisticsCountBothWays() {
    let h = run(segment: nil)
    h.flush()
    #expect(h.flowEnds.count == 1)
    let end = h.flowEnds[0]
    #expect(end.packets_from_a == 2 + 3)  // SYN, ACK, three lines from the client
    #expect(end.packets_from_b == 1 + 4)  // SYN-ACK, four lines from the pool
    #expect(end.bytes_from_a > end.packets_from_a * 54)
  }

  @Test func idleCandidatesCannotStarveTheMatcher() {
    // Two buffers only; idle JSON-looking flows hold both, then a miner connects.
    let h = CoreHarness(config: { $0.stream_buffers = 2 })
    let w = PcapWriter(link: .ethernet(vlans: []))
    for i in 0..<5 {
      let idle = Conversation(
        writer: w, client: Peer("10.9.0.\(i + 1)", 40000), server: Peer("10.9.1.1", 8545),
        startNs: 1_000_000_000)
      idle.send(fromClient: true, line: #"{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}"#)
    }
    let miner = Conversation(writer: w, client: client, server: pool, startNs: 2_000_000_000)
    miner.send(fromClient: true, line: Self.lines[0])
    h.feed(pcap: [UInt8](w.data))
    #expect(h.lines.map(\.method) == ["mining.subscribe"])
    #expect(h.anomaly(MW_AN_STREAM_RECLAIMED) == 4)
    #expect(h.anomaly(MW_AN_STREAM_BUFFERS_EXHAUSTED) == 0)
  }

  @Test func aClosedFlowGivesItsBufferBack() {
    let h = CoreHarness(config: { $0.stream_buffers = 1 })
    let w = PcapWriter(link: .ethernet(vlans: []))
    let web = Conversation(
      writer: w, client: Peer("10.9.0.1", 40000), server: Peer("10.9.1.1", 80), startNs: 1_000_000_000)
    web.send(fromClient: true, Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8))
    web.close()
    let miner = Conversation(writer: w, client: client, server: pool, startNs: 2_000_000_000)
    miner.send(fromClient: true, line: Self.lines[0])
    h.feed(pcap: [UInt8](w.data))
    #expect(h.lines.count == 1)
    #expect(h.anomaly(MW_AN_STREAM_RECLAIMED) == 0)
  }
}
