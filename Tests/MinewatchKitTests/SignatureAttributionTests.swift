import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// Pool-name signatures at work: DNS answers, TLS names, HTTP Host, websites, lookups.
@Suite struct SignatureAttributionTests {
  static let t0: UInt64 = 1_700_000_000 * 1_000_000_000
  let host = Peer("10.40.1.7", 41000)
  let resolver = Peer("10.40.0.53", 53)

  func dns(_ w: PcapWriter, at: UInt64, name: String, cnames: [String] = [], to address: [UInt8], ttl: UInt32)
  {
    w.write(
      frame: PacketBuilder.udp(
        link: w.link, from: host, to: resolver, payload: DNSMessage.query(id: 9, name: name)), timeNs: at)
    w.write(
      frame: PacketBuilder.udp(
        link: w.link, from: resolver, to: host,
        payload: DNSMessage.answer(id: 9, name: name, cnames: cnames, addresses: [address], ttl: ttl)),
      timeNs: at + 1_000_000)
  }

  /// A TLS session without a server name on an odd port: only the DNS answer can name it.
  func opaqueSession(_ w: PcapWriter, at: UInt64, server: Peer) {
    let c = Conversation(writer: w, client: Peer("10.40.1.7", 52000), server: server, startNs: at)
    for _ in 0..<10 {
      c.advance(seconds: 6)
      c.send(fromClient: true, [0x17, 0x03, 0x03, 0, 40] + [UInt8](repeating: 0x5a, count: 40))
      c.send(fromClient: false, [0x17, 0x03, 0x03, 0, 90] + [UInt8](repeating: 0xa5, count: 90))
    }
  }

  @Test func encryptedSessionToAnAddressLearntFromDNS() throws {
    let r = try scanForged("dns-attr.pcap") { w in
      dns(w, at: Self.t0, name: "gulf.moneroocean.stream", to: [203, 0, 113, 80], ttl: 300)
      opaqueSession(w, at: Self.t0 + 2_000_000_000, server: Peer("203.0.113.80", 20128))
    }
    let s = try #require(r.host("10.40.1.7")?.sessions.first)
    #expect(s.finding == .poolConnection && s.confidence == .medium)
    #expect("\(s.poolIP):\(s.poolPort)" == "203.0.113.80:20128")
    #expect(s.poolName == "MoneroOcean" && s.coin == "XMR")
    #expect(s.protocolVariant == "unidentified" && s.algorithm == nil)
    #expect(s.evidence == ["dns:gulf.moneroocean.stream"])
    #expect(s.hashrate == nil && s.hashrateNote == "mining protocol not visible")
    #expect(s.egressPackets == 2 + 10 && s.ingressPackets == 1 + 10)
    #expect(within(Double(s.lastNs - s.firstNs) / 1e9, 60, 0.01))
  }

  @Test func cnameChainLeadsToThePool() throws {
    let r = try scanForged("cname.pcap") { w in
      dns(
        w, at: Self.t0, name: "updates.example.net", cnames: ["edge.example.net", "xmr.2miners.com"],
        to: [198, 51, 100, 44], ttl: 120)
      opaqueSession(w, at: Self.t0 + 1_000_000_000, server: Peer("198.51.100.44", 2222))
    }
    let s = try #require(r.allSessions.first)
    #expect(s.poolName == "2Miners" && s.coin == "XMR")
    #expect(s.evidence == ["dns:updates.example.net"])
  }

  @Test func answersExpireWithTheirTTL() throws {
    let r = try scanForged("ttl.pcap") { w in
      dns(w, at: Self.t0, name: "pool.supportxmr.com", to: [203, 0, 113, 81], ttl: 30)
      opaqueSession(w, at: Self.t0 + 90_000_000_000, server: Peer("203.0.113.81", 9000))
    }
    // The connection came after the answer expired: only the lookup remains, as a weak finding.
    let h = try #require(r.host("10.40.1.7"))
    #expect(h.sessions.isEmpty)
    #expect(h.role == .lookup && h.confidence == .low && h.findings == [.poolLookup])
    #expect(h.lookups.map(\.name) == ["pool.supportxmr.com"])
    #expect(r.miningHosts.isEmpty)
    #expect(r.foundMining == false)
  }

  @Test func websitesAreNotMining() throws {
    let r = try scanForged("web2.pcap") { w in
      dns(w, at: Self.t0, name: "www.supportxmr.com", to: [203, 0, 113, 82], ttl: 300)
      opaqueSession(w, at: Self.t0 + 1_000_000_000, server: Peer("203.0.113.82", 443))
      let c = Conversation(
        writer: w, client: Peer("10.40.1.8", 52001), server: Peer("203.0.113.83", 443), startNs: Self.t0)
      c.send(fromClient: true, TLSClientHello.record(serverName: "api.nicehash.com.www.nicehash.com"))
    }
    #expect(r.hosts.isEmpty)
  }

  @Test func serverNameSplitAcrossSegmentsOnAnOddPort() throws {
    let r = try scanForged("sni-split.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.40.1.9", 52002), server: Peer("198.51.100.45", 14433), startNs: Self.t0)
      c.send(fromClient: true, TLSClientHello.record(serverName: "rvn-eu1.nanopool.org"), segment: 60)
      c.advance(seconds: 30)
      c.send(fromClient: false, [0x16, 0x03, 0x03, 0, 4, 2, 0, 0, 0])
    }
    let s = try #require(r.allSessions.first)
    #expect(s.protocolVariant == "tls" && s.coin == "RVN" && s.poolName == "Nanopool")
    #expect(s.evidence == ["sni:rvn-eu1.nanopool.org"])
  }

  @Test func browserMinerOverHTTPIsItsOwnKind() throws {
    let r = try scanForged("http-host.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.40.2.1", 52003), server: Peer("198.51.100.46", 80), startNs: Self.t0)
      c.send(
        fromClient: true,
        Array(
          "GET /lib/miner.min.js HTTP/1.1\r\nHost: www.CoinImp.com:80\r\nUser-Agent: Mozilla/5.0\r\n\r\n".utf8
        ))
      c.send(fromClient: false, Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".utf8))
    }
    let h = try #require(r.host("10.40.2.1"))
    #expect(h.role == .browserMiner)
    #expect(h.sessions.first?.finding == .browserMiner)
    #expect(h.sessions.first?.evidence == ["http-host:www.coinimp.com"])
    #expect(h.sessions.first?.protocolVariant == "http")
    #expect(r.miningHosts.isEmpty && r.pools.isEmpty)
  }

  @Test func listedAddressesNeedNoLookup() throws {
    let dir = URL(fileURLWithPath: Paths.scratch("sigs-addr-\(UUID().uuidString)"))
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for f in ["pools.txt", "algorithms.txt", "agents.txt"] {
      try FileManager.default.copyItem(
        at: Paths.signatures.appendingPathComponent(f), to: dir.appendingPathComponent(f))
    }
    try Data("2001:db8:77::5  XMR  Investigated pool\n".utf8).write(
      to: dir.appendingPathComponent("addresses.txt"))
    let path = Paths.scratch(UUID().uuidString + "-addr.pcap")
    let w = try PcapWriter(path: path, link: .raw)
    let c = Conversation(
      writer: w, client: Peer("2001:db8:1::9", 40000), server: Peer("2001:db8:77::5", 5555), startNs: Self.t0)
    c.send(fromClient: true, [0x17, 0x03, 0x03, 0, 8] + [UInt8](repeating: 1, count: 8))
    w.close()
    let r = try Scanner(signatures: Signatures(directory: dir)).scan(files: [path])
    let s = try #require(r.allSessions.first)
    #expect(s.poolName == "Investigated pool" && s.finding == .poolConnection)
    #expect(s.evidence == ["address:2001:db8:77::5"])
  }

  @Test func minerAgentsAreNamed() throws {
    let r = try scan([
      Paths.capture("miners/xmr_rx0_plain_eth.pcap"), Paths.capture("public/ndpi_mining.pcapng"),
    ])
    #expect(r.host("10.31.7.25")?.sessions.first?.miner == "XMRig")
    #expect(r.host("192.168.2.92")?.sessions.first?.miner == "xmr-stak (CPU)")
    #expect(r.host("192.168.2.148")?.sessions.first?.miner == "EWBF CUDA Miner")
    #expect(r.host("192.168.2.148")?.sessions.first?.minerHardware == "gpu")
  }

  @Test func punycodeForInternationalNames() {
    #expect(Punycode.toASCII("bücher.example") == "xn--bcher-kva.example")
    #expect(Punycode.toASCII("München.example") == "xn--mnchen-3ya.example")
    #expect(Punycode.toASCII("pool.example") == "pool.example")
  }

  @Test func importsHostsAdblockAndPlainLists() {
    let hosts = """
      # CoinBlocker-style hosts file
      0.0.0.0 coinhive.com
      127.0.0.1 localhost
      0.0.0.0 Miner.Example.ORG  www.miner.example.org # trailing comment
      0.0.0.0 coinhive.com
      not a line
      """
    let h = SignatureTools.importList(
      hosts, format: .hosts, kind: .browserMiner, coins: "XMR", pool: "CoinBlocker")
    #expect(
      h.lines.map { $0.split(separator: " ").first.map(String.init) } == [
        "coinhive.com", "miner.example.org", "www.miner.example.org",
      ])
    #expect(
      h.lines[0].split(separator: " ", omittingEmptySubsequences: true).map(String.init) == [
        "coinhive.com", "browser-miner", "XMR", "CoinBlocker",
      ])
    #expect(h.skipped == ["line 6: not '<address> <name>...'"])

    let adblock = """
      [Adblock Plus 2.0]
      ! NoCoin list
      ||coin-hive.com^
      ||minero.cc^$third-party
      ||cdn.example.com/miner.js
      ||*.wildcard.example^
      @@||allowed.example^
      example.com##.miner-banner
      /coinhive.min.js
      ||pool.example.net:3333^
      """
    let a = SignatureTools.importList(adblock, format: .adblock, kind: .pool, coins: "-", pool: "NoCoin")
    #expect(
      a.lines.compactMap { $0.split(separator: " ").first.map(String.init) } == [
        "coin-hive.com", "minero.cc", "cdn.example.com", "pool.example.net",
      ])
    #expect(a.skipped.count == 3)

    let plain = "pool.example.com\n# comment\nbad..name\nxmr.example.org  # note\n"
    let p = SignatureTools.importList(plain, format: .plain, kind: .pool, coins: "XMR", pool: "mine")
    #expect(
      p.lines.compactMap { $0.split(separator: " ").first.map(String.init) } == [
        "pool.example.com", "xmr.example.org",
      ])
    #expect(p.skipped == ["line 3: 'bad..name' is not a domain name"])
  }

  @Test func importedListsLoadBesidePoolsTxt() throws {
    let dir = URL(fileURLWithPath: Paths.scratch("sigs-100k-\(UUID().uuidString)"))
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for f in ["pools.txt", "algorithms.txt"] {
      try FileManager.default.copyItem(
        at: Paths.signatures.appendingPathComponent(f), to: dir.appendingPathComponent(f))
    }
    let plain = (0..<100_000).map { "host\($0).blocklist-\($0 % 97).example" }.joined(separator: "\n")
    let r = SignatureTools.importList(plain, format: .plain, kind: .pool, coins: "-", pool: "big list")
    try Data(r.lines.joined(separator: "\n").utf8).write(to: dir.appendingPathComponent("big.pools.txt"))
    let s = try Signatures(directory: dir)
    #expect(s.domains.count == 223 + 100_000)
    let table = try s.nameTable()
    #expect(table.count == 223 + 100_000)
    #expect(table.match("a.host99999.blocklist-89.example").map { s.domains[$0].pool } == "big list")
    #expect(table.match("pool.supportxmr.com").map { s.domains[$0].pool } == "SupportXMR")
    #expect(table.match("host100000.blocklist-0.example") == nil)
  }
}
