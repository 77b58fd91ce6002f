import CaptureForge
import MinewatchCore
import Testing

/// Every link type and IP version reaches the matcher; malformed headers are counted, not read.
@Suite struct DecodeTests {
  static let subscribe = #"{"id":1,"method":"mining.subscribe","params":["cpuminer/2.5.1"]}"#

  func sessionFrames(link: LinkLayer, client: Peer, server: Peer) -> [UInt8] {
    let w = PcapWriter(link: link)
    let c = Conversation(writer: w, client: client, server: server, startNs: 1_000_000_000)
    c.send(fromClient: true, line: Self.subscribe)
    return [UInt8](w.data)
  }

  @Test(arguments: [
    LinkLayer.ethernet(vlans: []), .ethernet(vlans: [100]), .ethernet(vlans: [100, 200]), .linuxSLL,
    .linuxSLL2, .raw, .null,
  ])
  func everyLinkTypeReachesTheMatcher(link: LinkLayer) {
    for (client, server) in [
      (Peer("192.0.2.10", 40000), Peer("198.51.100.5", 3333)),
      (Peer("2001:db8::10", 40000), Peer("2001:db8:1::5", 3333)),
    ] {
      let h = CoreHarness(linkType: link.linkType)
      h.feed(pcap: sessionFrames(link: link, client: client, server: server))
      #expect(h.lines.map(\.method) == ["mining.subscribe"], "link \(link) \(client)")
      #expect(h.lines.first?.fromA == true)
    }
  }

  /// A flow's key puts its two ends in one order whichever sent the packet (the lower address
  /// first, compared as numbers; the ports when the addresses are equal): both directions of a
  /// connection meet in one flow, the client's side known, also when the client is the higher
  /// end, when two IPv6 ends share their upper 64 bits and differ only in the last byte, or
  /// when a host talks to itself.
  @Test(arguments: [
    (Peer("198.51.100.5", 40000), Peer("192.0.2.10", 3333)),
    (Peer("192.0.2.10", 40000), Peer("198.51.100.5", 3333)),
    (Peer("2001:db8::10", 40000), Peer("2001:db8::5", 3333)),
    (Peer("2001:db8::5", 40000), Peer("2001:db8::10", 3333)),
    (Peer("2001:db8:1::5", 40000), Peer("2001:db8::5", 3333)),
    (Peer("2001:db8::5", 40000), Peer("2001:db8::5", 3333)),
    (Peer("2001:db8::5", 3333), Peer("2001:db8::5", 3334)),
    (Peer("192.0.2.7", 40000), Peer("192.0.2.7", 3333)),
  ])
  func bothDirectionsMeetInOneFlow(client: Peer, server: Peer) {
    let w = PcapWriter(link: .ethernet(vlans: []))
    let c = Conversation(writer: w, client: client, server: server, startNs: 1_000_000_000)
    c.send(fromClient: true, line: Self.subscribe)
    c.send(fromClient: false, line: #"{"id":1,"result":[[],"08000002",4],"error":null}"#)
    c.send(fromClient: true, line: #"{"id":2,"method":"mining.authorize","params":["w","x"]}"#)
    let h = CoreHarness(linkType: LinkLayer.ethernet(vlans: []).linkType)
    h.feed(pcap: [UInt8](w.data))
    #expect(h.lines.count == 3, "\(client) \(server)")
    #expect(Set(h.lines.map(\.flow)).count == 1, "\(client) \(server): \(h.lines)")
    #expect(h.lines.map(\.fromA) == [true, false, true], "\(client) \(server)")
  }

  @Test func ipv6ExtensionHeadersAreSkipped() {
    // hop-by-hop (8 bytes) then destination options (8 bytes) before TCP
    let tcp = PacketBuilder.tcp(
      link: .raw, from: Peer("2001:db8::1", 40000), to: Peer("2001:db8::2", 3333), seq: 1, ack: 1,
      flags: 0x18, payload: Array((Self.subscribe + "\n").utf8))
    let l4 = Array(tcp[40...])
    var ip: [UInt8] = [0x60, 0, 0, 0, UInt8((l4.count + 16) >> 8), UInt8((l4.count + 16) & 0xff), 0, 64]
    ip += Array(tcp[8..<40])
    ip += [60, 0, 1, 4, 0, 0, 0, 0]  // hop-by-hop → destination options
    ip += [6, 0, 1, 4, 0, 0, 0, 0]  // destination options → TCP
    let h = CoreHarness(linkType: 101)
    h.feed(ip + l4)
    #expect(h.lines.map(\.method) == ["mining.subscribe"])
  }

  @Test func fragmentsAndMalformedHeadersAreCounted() {
    let h = CoreHarness(linkType: 101)
    var frag = PacketBuilder.tcp(
      link: .raw, from: Peer("192.0.2.1", 1), to: Peer("192.0.2.2", 2), seq: 1, ack: 1, flags: 0x18,
      payload: [1, 2, 3])
    frag[6] = 0x00
    frag[7] = 0x10  // fragment offset 16
    h.feed(frag)
    #expect(h.anomaly(MW_AN_NON_FIRST_FRAGMENT) == 1)

    var badIHL = frag
    badIHL[0] = 0x42  // IHL 8 bytes < 20
    h.feed(badIHL)
    #expect(h.anomaly(MW_AN_BAD_IPV4_HEADER) == 1)

    let good = PacketBuilder.tcp(
      link: .raw, from: Peer("192.0.2.1", 1), to: Peer("192.0.2.2", 2), seq: 1, ack: 1, flags: 0x18,
      payload: [1, 2, 3])
    h.feed(good, caplen: 30)  // snaplen cut inside the TCP header
    #expect(h.anomaly(MW_AN_TRUNCATED_PACKET) == 1)

    var badTCP = good
    badTCP[32] = 0x10  // data offset 4 bytes
    h.feed(badTCP)
    #expect(h.anomaly(MW_AN_BAD_TCP_HEADER) == 1)
    #expect(h.lines.isEmpty)
  }

  @Test func everyTruncationOfEveryFrameIsSafe() {
    // Cut each frame of a real session at every length: nothing may be read past caplen.
    for link in [LinkLayer.ethernet(vlans: [7, 8]), .linuxSLL2, .null] {
      let data = sessionFrames(
        link: link, client: Peer("2001:db8::10", 40000), server: Peer("2001:db8::5", 3333))
      let h = CoreHarness(linkType: link.linkType)
      let frame = Array(data[(24 + 16)...].prefix(200))
      for n in 0...frame.count { h.feed(frame, caplen: n) }
      #expect(h.counters.packets == UInt64(frame.count + 1))
    }
  }

  @Test func unsupportedLinkTypeIsRefused() {
    var cfg = mw_config()
    mw_config_default(&cfg)
    let e = mw_engine_create(&cfg, nil, nil, nil)!
    defer { mw_engine_destroy(e) }
    #expect(mw_engine_set_linktype(e, 147) == -1)  // USER0
    #expect(mw_engine_set_linktype(e, 276) == 0)
  }
}
