import CaptureForge
import MinewatchCore
import Testing

/// Tables stay at their size under floods, count what they drop, and keep what matters.
@Suite struct BoundsTests {
  @Test func synFloodStaysInTheTableAndTheMinerSurvives() {
    let h = CoreHarness(config: { $0.flow_capacity = 256 })
    // A miner first, then 20,000 SYNs from distinct sources around its lines.
    let w = PcapWriter(link: .ethernet(vlans: []))
    let miner = Conversation(
      writer: w, client: Peer("10.1.1.1", 40000), server: Peer("203.0.113.50", 3333), startNs: 1_000_000_000)
    miner.send(fromClient: true, line: #"{"id":1,"method":"mining.subscribe","params":["x"]}"#)
    h.feed(pcap: [UInt8](w.data))
    for i in 0..<20_000 {
      let from = Peer(
        address: [10, 2, UInt8(i >> 8 & 0xff), UInt8(i & 0xff)], port: UInt16(1024 + i % 60000))
      h.feed(
        PacketBuilder.tcp(
          link: .ethernet(vlans: []), from: from, to: Peer("198.51.100.9", 80), seq: 1, ack: 0,
          flags: PacketBuilder.syn, payload: []), at: 1_500_000_000)
    }
    // The same connection goes on (its earlier packets come again and are dropped as such).
    miner.advance(seconds: 1)
    miner.send(fromClient: true, line: #"{"id":4,"method":"mining.submit","params":["a","1","2","3","4"]}"#)
    h.feed(pcap: [UInt8](w.data))
    let c = h.counters
    #expect(c.flows_active <= 256 * 2)  // never above the table's capacity (rounded to buckets)
    #expect(h.anomaly(MW_AN_FLOW_TABLE_EVICTION) >= 19_000)
    // The mining flow was preferred over the flood when buckets filled: both lines belong to it.
    #expect(h.lines.map(\.method) == ["mining.subscribe", "mining.submit"])
    #expect(Set(h.lines.map(\.flow)).count == 1)
  }
}
