import Foundation

/// Mining and decoy sessions as real miners and services write them (message shapes taken
/// from the recorded captures in Tests/Fixtures/captures and the protocol documents cited in
/// stratum_methods.c).
public enum Scenarios {
  /// Stratum V1, Bitcoin family: subscribe, authorize, difficulty, jobs, then shares every
  /// `interval` seconds, each answered true.
  public static func stratum(
    _ c: Conversation, agent: String = "cpuminer/2.5.1", login: String, difficulty: Double,
    shares: Int, interval: Double, rejectEvery: Int = 0
  ) {
    c.send(fromClient: true, line: #"{"id": 1, "method": "mining.subscribe", "params": ["\#(agent)"]}"#)
    c.send(
      fromClient: false,
      line:
        #"{"id":1,"result":[[["mining.set_difficulty","1"],["mining.notify","1"]],"0ceeaf07",4],"error":null}"#
    )
    c.send(fromClient: true, line: #"{"id": 2, "method": "mining.authorize", "params": ["\#(login)", "x"]}"#)
    c.send(fromClient: false, line: #"{"id":2,"result":true,"error":null}"#)
    c.send(
      fromClient: false, line: #"{"id":null,"method":"mining.set_difficulty","params":[\#(difficulty)]}"#)
    c.send(fromClient: false, line: notify(job: 0))
    for i in 0..<shares {
      c.advance(seconds: interval)
      if i % 5 == 4 { c.send(fromClient: false, line: notify(job: i)) }
      c.send(
        fromClient: true,
        line:
          #"{"method": "mining.submit", "params": ["\#(login)", "\#(String(i, radix: 16))", "00000000", "6b048917", "2cf90681"], "id":4}"#
      )
      let reject = rejectEvery > 0 && i % rejectEvery == rejectEvery - 1
      c.send(
        fromClient: false,
        line: reject
          ? #"{"id":4,"result":null,"error":[21,"Stale job",null]}"# : #"{"id":4,"result":true,"error":null}"#
      )
    }
  }

  public static func notify(job: Int) -> String {
    let coinbase = String(repeating: "01000000010000000000ffffffff2103b21f0e", count: 4)
    return
      #"{"id":null,"method":"mining.notify","params":["\#(String(job, radix: 16))","dbb5f67a727718afa6588b74aa9d0a946acd0b42004a26570000000000000000","\#(coinbase)","0e2f6d772d746573742d706f6f6c2f",[],"20000000","17034219","6b048917",true]}"#
  }

  /// CryptoNote (XMRig): login with the job in the reply, then submits answered OK.
  public static func cryptoNote(
    _ c: Conversation, login: String, target: String = "dc460300", shares: Int, interval: Double,
    agent: String = "XMRig/6.26.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"
  ) {
    c.send(
      fromClient: true,
      line:
        #"{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"\#(login)","pass":"x","agent":"\#(agent)","algo":["rx/0"]}}"#
    )
    c.send(
      fromClient: false,
      line:
        #"{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"1","job":{"blob":"0606e898","job_id":"7221","target":"\#(target)","algo":"rx/0","height":3000000},"status":"OK"}}"#
    )
    for i in 0..<shares {
      c.advance(seconds: interval)
      c.send(
        fromClient: true,
        line:
          #"{"id":\#(i + 2),"jsonrpc":"2.0","method":"submit","params":{"id":"1","job_id":"7221","nonce":"98024001","result":"c9be9381a68d533c059d614d961e0534d7d8785dd5c339c2f9596eb95f320100"}}"#
      )
      c.send(
        fromClient: false, line: #"{"id":\#(i + 2),"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}"#)
    }
  }

  /// A readable XMRig-style miner (logged in, no shares) whose pool pushes an rx/0 job at each
  /// of `blocks` (seconds after the login): the job pushes encrypted flows are compared with.
  public static func cryptoNoteJobPushes(_ c: Conversation, atSeconds blocks: [Double]) {
    cryptoNote(c, login: "48edfHu7V9Z84YzzMa6fUueo", shares: 0, interval: 1)
    var at = 0.0
    for b in blocks {
      c.advance(seconds: b - at)
      at = b
      c.send(
        fromClient: false,
        line:
          #"{"jsonrpc":"2.0","method":"job","params":{"blob":"0606e898","job_id":"8","target":"dc460300","algo":"rx/0"}}"#
      )
    }
  }

  /// A JSON-RPC echo service: the kind of traffic older detectors call mining.
  public static func jsonEcho(_ c: Conversation, lines: Int) {
    for i in 0..<lines {
      let l = #"{"jsonrpc": "2.0", "method": "echo", "params": ["Testing \#(i)"], "id": \#(i)}"#
      c.send(fromClient: true, line: l)
      c.send(fromClient: false, line: l)
    }
  }

  /// The bundled sample: three miners, a TLS miner found by name, and decoys, all on
  /// documentation and private addresses.
  public static func writeSample(to w: PcapWriter) {
    w.sortByTime = true
    defer { w.releaseHeld() }
    let t0: UInt64 = 1_763_900_000 * 1_000_000_000
    let dnsServer = Peer("10.31.0.53", 53)
    // A lookup of a pool name, answered; the miner then connects to the address.
    let lookup = Peer("10.31.7.23", 40001)
    w.write(
      frame: PacketBuilder.udp(
        link: w.link, from: lookup, to: dnsServer,
        payload: DNSMessage.query(id: 7, name: "stratum.braiins.com")), timeNs: t0)
    w.write(
      frame: PacketBuilder.udp(
        link: w.link, from: dnsServer, to: lookup,
        payload: DNSMessage.answer(
          id: 7, name: "stratum.braiins.com", addresses: [[203, 0, 113, 50]], ttl: 300)),
      timeNs: t0 + 2_000_000)
    let btc = Conversation(
      writer: w, client: Peer("10.31.7.23", 49862), server: Peer("203.0.113.50", 3333),
      startNs: t0 + 10_000_000)
    stratum(btc, login: "mwlab.rig01", difficulty: 0.005, shares: 40, interval: 3)
    btc.close()
    let xmr = Conversation(
      writer: w, client: Peer("10.31.7.25", 51000), server: Peer("198.51.100.20", 3333),
      startNs: t0 + 20_000_000)
    cryptoNote(
      xmr,
      login:
        "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoE",
      target: "e4a63d00", shares: 30, interval: 4)
    xmr.close()
    // A TLS session to a pool, visible only by its server name.
    let tls = Conversation(
      writer: w, client: Peer("10.31.7.26", 52000), server: Peer("203.0.113.77", 443),
      startNs: t0 + 30_000_000)
    tls.send(fromClient: true, TLSClientHello.record(serverName: "pool.supportxmr.com"))
    for _ in 0..<20 {
      tls.advance(seconds: 5)
      tls.send(fromClient: false, [0x17, 0x03, 0x03, 0, 64] + [UInt8](repeating: 0xab, count: 64))
      tls.send(fromClient: true, [0x17, 0x03, 0x03, 0, 48] + [UInt8](repeating: 0xcd, count: 48))
    }
    tls.close()
    // Decoys: a JSON-RPC echo service, and a web visit to a pool's website.
    let echo = Conversation(
      writer: w, client: Peer("10.31.8.10", 53000), server: Peer("10.31.9.9", 8080), startNs: t0 + 40_000_000)
    jsonEcho(echo, lines: 5)
    echo.close()
    let web = Conversation(
      writer: w, client: Peer("10.31.8.11", 53001), server: Peer("203.0.113.90", 443),
      startNs: t0 + 50_000_000)
    web.send(fromClient: true, TLSClientHello.record(serverName: "www.supportxmr.com"))
    web.close()
  }
}
