import CaptureForge
import MinewatchCore
import Testing

@Suite struct DNSAndTLSTests {
  let resolver = Peer("10.31.0.53", 53)
  let host = Peer("10.31.7.26", 41000)

  func dnsFrame(_ payload: [UInt8], response: Bool = true) -> [UInt8] {
    PacketBuilder.udp(
      link: .ethernet(vlans: []), from: response ? resolver : host, to: response ? host : resolver,
      payload: payload)
  }

  func connect(_ h: CoreHarness, to address: [UInt8], at ns: UInt64 = 2_000_000_000) {
    h.feed(
      PacketBuilder.tcp(
        link: .ethernet(vlans: []), from: Peer("10.31.7.26", 52000), to: Peer(address: address, port: 8443),
        seq: 1,
        ack: 0, flags: PacketBuilder.syn, payload: []), at: ns)
  }

  @Test func answersFollowCNAMEChainsToThePoolName() {
    let h = CoreHarness(domains: ["supportxmr.com"])
    h.feed(dnsFrame(DNSMessage.query(id: 1, name: "pool.supportxmr.com"), response: false))
    h.feed(
      dnsFrame(
        DNSMessage.answer(
          id: 1, name: "xmr.example.net", cnames: ["edge.example.net", "pool.supportxmr.com"],
          addresses: [[203, 0, 113, 77], [203, 0, 113, 78]], ttl: 300)))
    h.feed(
      dnsFrame(DNSMessage.answer(id: 2, name: "www.example.org", addresses: [[198, 51, 100, 1]], ttl: 300)))
    #expect(h.dnsQueries == ["pool.supportxmr.com"])
    for a in [[203, 0, 113, 77], [203, 0, 113, 78], [198, 51, 100, 1]] as [[UInt8]] { connect(h, to: a) }
    #expect(h.poolFlows.map(\.pool) == [[203, 0, 113, 77], [203, 0, 113, 78]])
    #expect(h.poolFlows.allSatisfy { $0.name == "xmr.example.net" })
  }

  @Test func addressesAreForgottenWhenTheirTTLRunsOut() {
    let h = CoreHarness(domains: ["supportxmr.com"])
    h.feed(
      dnsFrame(
        DNSMessage.answer(id: 1, name: "pool.supportxmr.com", addresses: [[203, 0, 113, 77]], ttl: 30)),
      at: 1_000_000_000)
    connect(h, to: [203, 0, 113, 77], at: 20_000_000_000)
    h.flush()
    connect(h, to: [203, 0, 113, 77], at: 40_000_000_000)
    #expect(h.poolFlows.count == 1)
  }

  @Test func websiteNamesRaiseNothing() {
    let h = CoreHarness(domains: [])
    var name = "www.supportxmr.com"
    _ = name.withUTF8 { mw_names_add(h.names, $0.baseAddress, $0.count, 1 | MW_NAME_QUIET) }
    h.feed(dnsFrame(DNSMessage.query(id: 1, name: "www.supportxmr.com"), response: false))
    h.feed(
      dnsFrame(
        DNSMessage.answer(id: 1, name: "www.supportxmr.com", addresses: [[203, 0, 113, 90]], ttl: 300)))
    connect(h, to: [203, 0, 113, 90])
    #expect(h.dnsQueries.isEmpty && h.poolFlows.isEmpty)
  }

  @Test func hostileDNSIsCountedNotFollowed() {
    let h = CoreHarness(domains: ["supportxmr.com"])
    // A compression pointer to itself in the question name.
    var loop: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]
    loop += [0xc0, 12, 0, 1, 0, 1]
    h.feed(dnsFrame(loop))
    #expect(h.anomaly(MW_AN_DNS_POINTER_LOOP) == 1)
    // An answer whose rdlength runs past the message.
    var bad = DNSMessage.answer(id: 3, name: "pool.supportxmr.com", addresses: [[1, 2, 3, 4]], ttl: 60)
    bad[bad.count - 5] = 0xff
    h.feed(dnsFrame(bad))
    #expect(h.anomaly(MW_AN_DNS_MALFORMED) == 1)
    // Labels adding up past 255 bytes.
    var long: [UInt8] = [0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
    for _ in 0..<6 { long += [63] + [UInt8](repeating: 0x61, count: 63) }
    long += [0, 0, 1, 0, 1]
    h.feed(dnsFrame(long, response: false))
    #expect(h.anomaly(MW_AN_NAME_TOO_LONG) == 1)
    // Every truncation of a valid answer is safe.
    let good = DNSMessage.answer(
      id: 4, name: "pool.supportxmr.com", cnames: ["a.supportxmr.com"], addresses: [[1, 2, 3, 4]], ttl: 60)
    for n in 0..<good.count { h.feed(dnsFrame(Array(good.prefix(n)))) }
    connect(h, to: [1, 2, 3, 4])
    #expect(h.poolFlows.isEmpty)
  }

  func tlsSession(split: Int?) -> CoreHarness {
    let w = PcapWriter(link: .ethernet(vlans: []))
    let c = Conversation(writer: w, client: host, server: Peer("203.0.113.77", 443), startNs: 1_000_000_000)
    c.send(fromClient: true, TLSClientHello.record(serverName: "Pool.SupportXMR.com"), segment: split)
    c.send(fromClient: false, [0x16, 0x03, 0x03, 0, 4, 2, 0, 0, 0])
    let h = CoreHarness(domains: ["supportxmr.com"])
    h.feed(pcap: [UInt8](w.data))
    h.flush()
    return h
  }

  @Test func serverNameIsFoundWholeOrSplitAcrossSegments() {
    for split in [nil, 100, 17, 1] {
      let h = tlsSession(split: split)
      #expect(h.sni == ["Pool.SupportXMR.com"], "split \(String(describing: split))")
      #expect(h.flowEnds.count == 1)
    }
  }

  @Test func everyTruncatedHelloIsSafe() {
    let hello = TLSClientHello.record(serverName: "pool.supportxmr.com")
    for n in 0..<hello.count {
      var name: UnsafePointer<UInt8>?
      let r = hello.withUnsafeBufferPointer { mw_tls_client_hello_sni($0.baseAddress, n, &name) }
      #expect(r <= 0)
    }
    var name: UnsafePointer<UInt8>?
    let n = hello.withUnsafeBufferPointer { mw_tls_client_hello_sni($0.baseAddress, $0.count, &name) }
    #expect(n == 19)
  }
}
