import CaptureForge
import Foundation
import MinewatchKit
import Testing

/// Captures written by the test: the cases the shared captures do not cover.
@Suite struct ForgedCaptureTests {
  static let t0: UInt64 = 1_700_000_000 * 1_000_000_000

  /// 50 shares at difficulty 2 over 100 s: 50 × 2 × 2^32 / 100 s ≈ 4.29 GH/s once the pool's
  /// name says SHA-256d.
  func btcSession(_ w: PcapWriter, client: Peer, server: Peer, handshake: Bool = true) {
    w.write(
      frame: PacketBuilder.udp(
        link: w.link, from: Peer(client.isV6 ? "2001:db8::53" : "192.0.2.53", 53), to: client,
        payload: DNSMessage.answer(id: 1, name: "stratum.braiins.com", addresses: [server.address], ttl: 600)),
      timeNs: Self.t0)
    let c = Conversation(
      writer: w, client: client, server: server, startNs: Self.t0 + 1_000_000, handshake: handshake)
    Scenarios.stratum(c, login: "campus.lab7", difficulty: 2, shares: 50, interval: 2)
    c.close()
  }

  @Test(arguments: [
    LinkLayer.ethernet(vlans: [42]), .ethernet(vlans: [10, 20]), .linuxSLL, .linuxSLL2, .raw, .null,
  ])
  func linkTypesAndAddressFamilies(link: LinkLayer) throws {
    for (client, server) in [
      (Peer("192.0.2.10", 40001), Peer("203.0.113.50", 3333)),
      (Peer("2001:db8:10::7", 40001), Peer("2001:db8:50::1", 3333)),
    ] {
      let r = try scanForged("link.pcap", link: link) { btcSession($0, client: client, server: server) }
      let s = try #require(r.allSessions.first, "\(link) \(client)")
      #expect(r.miningHosts.count == 1)
      #expect(s.clientIP == IPAddress(client.isV6 ? "2001:db8:10::7" : "192.0.2.10"))
      #expect(s.sharesSubmitted == 50 && s.sharesAccepted == 50)
      #expect(s.algorithm == "sha256d" && s.coin == "BTC")
      // 50 × 2 × 2^32 over the 100 s between the first packet and the last
      #expect(within(s.hashrate?.rate, 50 * 2 * 4_294_967_296 / 100, 0.01))
    }
  }

  @Test func nanosecondCaptureKeepsTime() throws {
    let r = try scanForged("nano.pcap", nanosecond: true) {
      btcSession($0, client: Peer("192.0.2.10", 40001), server: Peer("203.0.113.50", 3333))
    }
    let s = try #require(r.allSessions.first)
    #expect(within(Double(s.lastNs - s.firstNs) / 1e9, 100, 0.01))
  }

  @Test func midSessionCaptureWithoutLoginStillCountsShares() throws {
    let r = try scanForged("mid.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.1.2.3", 50000), server: Peer("198.51.100.8", 3333), startNs: Self.t0,
        handshake: false)
      c.send(fromClient: false, line: #"{"id":null,"method":"mining.set_difficulty","params":[4]}"#)
      for i in 0..<10 {
        c.advance(seconds: 3)
        c.send(fromClient: false, line: Scenarios.notify(job: i))
        c.send(
          fromClient: true,
          line:
            #"{"params":["acct.w1","\#(i)","00","5f5e1000","12345678"],"id":\#(100 + i),"method":"mining.submit"}"#
        )
        c.send(fromClient: false, line: #"{"error":null,"id":\#(100 + i),"result":true}"#)
      }
    }
    let s = try #require(r.host("10.1.2.3")?.sessions.first)
    #expect(s.sharesSubmitted == 10 && s.sharesAccepted == 10)
    #expect(s.login == "acct.w1")
    #expect(s.difficulty == 4)
    #expect(s.hashrate == nil)  // no pool name, so no algorithm: unknown, not guessed
    #expect(s.hashrateNote?.contains("algorithm unknown") == true)
  }

  @Test func retransmittedAndReorderedSharesCountOnce() throws {
    let r = try scanForged("faults.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.1.2.4", 50001), server: Peer("198.51.100.9", 3333), startNs: Self.t0)
      Scenarios.cryptoNote(
        c,
        login:
          "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoE",
        shares: 5, interval: 10)
      let segs = c.send(
        fromClient: true,
        Array(
          (#"{"id":50,"method":"submit","params":{"id":"1","job_id":"7221","nonce":"01","result":"ff"}}"#
            + "\n").utf8), segment: 20)
      for (seq, b) in segs { c.resend(fromClient: true, seq: seq, b) }
      c.sendReordered(
        fromClient: true,
        line: #"{"id":51,"method":"submit","params":{"id":"1","job_id":"7221","nonce":"02","result":"ee"}}"#)
      c.send(fromClient: false, line: #"{"id":50,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}"#)
      c.send(
        fromClient: false,
        line: #"{"id":51,"jsonrpc":"2.0","error":{"code":-1,"message":"Low difficulty share"}}"#)
    }
    let s = try #require(r.allSessions.first)
    #expect(s.sharesSubmitted == 7)
    #expect(s.sharesAccepted == 6 && s.sharesRejected == 1)
    #expect(r.anomalies["tcp_retransmission"] ?? 0 > 0)
    #expect(r.anomalies["tcp_out_of_order"] == 1)
  }

  @Test func repeatedRequestIDsAreMatchedInOrder() throws {
    let r = try scanForged("ids.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.1.2.5", 50002), server: Peer("198.51.100.10", 3333), startNs: Self.t0)
      c.send(fromClient: false, line: #"{"id":null,"method":"mining.set_difficulty","params":[1]}"#)
      for _ in 0..<3 {
        c.send(fromClient: true, line: #"{"id":4,"method":"mining.submit","params":["a.b","1","2","3","4"]}"#)
      }
      c.send(fromClient: false, line: #"{"id":4,"result":true,"error":null}"#)
      c.send(fromClient: false, line: #"{"id":4,"result":false,"error":null}"#)
      c.send(fromClient: false, line: #"{"id":4,"result":true,"error":null}"#)
      // An extra reply settles nothing.
      c.send(fromClient: false, line: #"{"id":4,"result":true,"error":null}"#)
    }
    let s = try #require(r.allSessions.first)
    #expect(s.sharesSubmitted == 3 && s.sharesAccepted == 2 && s.sharesRejected == 1)
  }

  @Test func internalStratumServerIsReportedAsProxy() throws {
    let r = try scanForged("proxy.pcap") { w in
      for (i, miner) in ["10.20.0.11", "10.20.0.12"].enumerated() {
        let c = Conversation(
          writer: w, client: Peer(miner, UInt16(41000 + i)), server: Peer("10.20.0.2", 3333),
          startNs: Self.t0 + UInt64(i) * 1000)
        Scenarios.cryptoNote(c, login: "rig\(i)", shares: 3, interval: 5)
      }
      let up = Conversation(
        writer: w, client: Peer("10.20.0.2", 45000), server: Peer("198.51.100.20", 443),
        startNs: Self.t0 + 5000)
      Scenarios.cryptoNote(
        up,
        login:
          "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoE",
        shares: 6, interval: 2)
    }
    let proxy = try #require(r.hosts.first { $0.role == .proxy })
    #expect("\(proxy.ip)" == "10.20.0.2")
    #expect(proxy.clientsServed.map { "\($0)" } == ["10.20.0.11", "10.20.0.12"])
    // The two rigs mine; the proxy's upstream session carries their work merged, so it is listed
    // under the proxy but not added to the totals a second time.
    #expect(r.miningHosts.map { "\($0.ip)" } == ["10.20.0.11", "10.20.0.12"])
    #expect(proxy.sessions.map { "\($0.poolIP)" } == ["198.51.100.20"] && proxy.hashrate != nil)
    let rigs = r.miningHosts.compactMap(\.hashrate).reduce(0, +)
    #expect(abs((r.hashrateByAlgorithm.values.first ?? 0) - rigs) < 1e-9 * rigs)
  }

  @Test func echoServiceIsNotMining() throws {
    let r = try scanForged("echo.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.1.1.1", 50003), server: Peer("10.1.1.2", 7), startNs: Self.t0)
      Scenarios.jsonEcho(c, lines: 10)
      // An echo of a miner's own line comes back from the server: roles conflict.
      let e = Conversation(
        writer: w, client: Peer("10.1.1.3", 50004), server: Peer("10.1.1.2", 7), startNs: Self.t0)
      let line = #"{"id":1,"method":"mining.subscribe","params":["x"]}"#
      e.send(fromClient: true, line: line)
      e.send(fromClient: false, line: line)
    }
    #expect(r.hosts.isEmpty)
  }

  @Test func websiteOfAPoolIsNotMining() throws {
    let r = try scanForged("web.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.1.1.9", 50005), server: Peer("203.0.113.90", 443), startNs: Self.t0)
      c.send(fromClient: true, TLSClientHello.record(serverName: "www.supportxmr.com"))
      c.send(fromClient: false, [0x16, 0x03, 0x03, 0, 4, 2, 0, 0, 0])
    }
    #expect(r.hosts.isEmpty)
  }

  @Test func ethereumStratumAndGetworkVariants() throws {
    let r = try scanForged("eth.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.1.3.1", 50010), server: Peer("198.51.100.30", 4444), startNs: Self.t0)
      c.send(
        fromClient: true,
        line: #"{"id":1,"method":"mining.subscribe","params":["PhoenixMiner/6.2c","EthereumStratum/1.0.0"]}"#)
      c.send(
        fromClient: false,
        line:
          #"{"id":1,"result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f","EthereumStratum/1.0.0"],"080c"],"error":null}"#
      )
      c.send(
        fromClient: true,
        line:
          #"{"id":2,"method":"mining.authorize","params":["0x52bc44d5378309ee2abf1539bf71de1b7d7be3b5.rig1","x"]}"#
      )
      c.send(fromClient: false, line: #"{"id":null,"method":"mining.set_difficulty","params":[0.5]}"#)
      for i in 0..<20 {
        c.advance(seconds: 5)
        c.send(
          fromClient: true,
          line:
            #"{"id":\#(10 + i),"method":"mining.submit","params":["0x52bc.rig1","bf0488aa","6a909d9bbc0f"]}"#)
        c.send(fromClient: false, line: #"{"id":\#(10 + i),"result":true,"error":null}"#)
      }
      let g = Conversation(
        writer: w, client: Peer("10.1.3.2", 50011), server: Peer("198.51.100.31", 8332), startNs: Self.t0)
      let body = #"{"method":"getwork","params":[],"id":0}"#
      g.send(
        fromClient: true,
        Array(
          "POST / HTTP/1.1\r\nX-Mining-Extensions: midstate\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            .utf8))
    }
    let es = try #require(r.host("10.1.3.1")?.sessions.first)
    #expect(es.protocolVariant == "ethereumstratum" && es.algorithm == "ethash")
    #expect(es.wallet == "0x52bc44d5378309ee2abf1539bf71de1b7d7be3b5" && es.worker == "rig1")
    // 20 × 0.5 × 2^32 over 100 s
    #expect(within(es.hashrate?.rate, 20 * 0.5 * 4_294_967_296 / 100, 0.01))
    #expect(r.host("10.1.3.2")?.sessions.first?.protocolVariant == "getwork")
  }
}
