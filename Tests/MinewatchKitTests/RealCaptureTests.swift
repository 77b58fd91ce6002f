import Foundation
import Testing

@testable import MinewatchKit

/// Every real capture in Tests/Fixtures/captures against its EXPECTED.md, field by field.
@Suite struct RealCaptureTests {
  @Test func btcCpuminer() throws {
    let r = try scan([Paths.capture("miners/btc_sha256d_cpuminer_eth.pcap")])
    #expect(r.miningHosts.count == 1)
    let s = try #require(r.host("10.31.7.23")?.sessions.first)
    #expect("\(s.poolIP):\(s.poolPort)" == "203.0.113.50:3333")
    #expect(s.protocolVariant == "stratum")
    #expect(s.agent == "cpuminer/2.5.1")
    #expect(s.algorithm == "sha256d")
    #expect(s.coin == "BTC")
    #expect(s.poolDomain == "stratum.braiins.com")
    #expect(s.login == "mwlab.rig01")
    #expect(s.account == "mwlab" && s.worker == "rig01" && s.wallet == nil)
    #expect(s.sharesSubmitted == 94 && s.sharesAccepted == 94 && s.sharesRejected == 0)
    #expect(s.difficulty == 0.005)
    #expect(within(r.capture.durationSeconds, 270.0, 0.001))
    #expect(within(s.hashrate?.rate, 6.56e6, 0.36))
    #expect(s.evidence.contains("dns:stratum.braiins.com"))
    #expect(s.finding == .stratum && s.confidence == .high)
    #expect(s.miner == "cpuminer (pooler)")
  }

  @Test func ltcCpuminer() throws {
    let r = try scan([Paths.capture("miners/ltc_scrypt_cpuminer_eth.pcap")])
    let s = try #require(r.host("10.31.7.24")?.sessions.first)
    #expect("\(s.poolIP):\(s.poolPort)" == "203.0.113.61:3333")
    #expect(s.algorithm == "scrypt" && s.coin == "LTC")
    #expect(s.login == "mwlab.2")
    #expect(s.sharesSubmitted == 102 && s.sharesAccepted == 102)
    #expect(s.difficulty == 0.5)
    #expect(within(s.hashrate?.rate, 12.7e3, 0.35))
  }

  @Test func xmrigPlain() throws {
    let r = try scan([Paths.capture("miners/xmr_rx0_plain_eth.pcap")])
    let s = try #require(r.host("10.31.7.25")?.sessions.first)
    #expect("\(s.poolIP):\(s.poolPort)" == "198.51.100.20:3333")
    #expect(s.protocolVariant == "cryptonote")
    #expect(s.agent == "XMRig/6.26.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0")
    #expect(s.algorithm == "randomx" && s.algorithmVariant == "rx/0" && s.coin == "XMR")
    #expect(s.login?.hasPrefix("48edfHu7V9Z84YzzMa6fUueo") == true)
    #expect(s.wallet == s.login)
    #expect(s.sharesSubmitted == 76 && s.sharesAccepted == 76)
    #expect(s.difficulty == 500)
    #expect(within(s.hashrate?.rate, 146, 0.39))
    let e = try #require(s.hashrate)
    #expect(e.low < e.rate && e.rate < e.high)
  }

  @Test func xmrigOverTLSIsFoundByName() throws {
    let r = try scan([Paths.capture("miners/xmr_rx0_tls_sni_eth.pcap")])
    #expect(r.miningHosts.count == 1)
    let s = try #require(r.host("10.31.7.26")?.sessions.first)
    #expect("\(s.poolIP):\(s.poolPort)" == "203.0.113.77:443")
    #expect(s.protocolVariant == "tls")
    #expect(s.poolDomain == "pool.supportxmr.com" && s.poolName == "SupportXMR")
    #expect(s.hashrate == nil && s.hashrateNote?.contains("encrypted") == true)
    #expect(s.finding == .poolConnection && s.confidence == .medium)
    #expect(s.evidence == ["dns:pool.supportxmr.com", "sni:pool.supportxmr.com"])
    #expect(s.coin == "XMR" && s.algorithm == nil)
    #expect(s.egressBytes > 30_000 && s.ingressBytes > 20_000)
    #expect(within(Double(s.lastNs - s.firstNs) / 1e9, 330, 0.01))
    // Its 86 shares are counted from the records' rhythm (EXPECTED.md: 86 submits).
    #expect(s.sharesSubmitted == 86 && s.sharesEstimated)
  }

  @Test func ndpiMiningFourSessions() throws {
    let r = try scan([Paths.capture("public/ndpi_mining.pcapng")])
    #expect(r.miningHosts.count == 3)
    #expect(r.allSessions.count == 4)

    let eth = try #require(r.host("147.229.13.222")?.sessions.first)
    #expect("\(eth.poolIP):\(eth.poolPort)" == "185.71.66.39:9999")
    #expect(eth.protocolVariant == "eth-proxy")
    #expect(eth.login?.hasPrefix("0x9c99d212f7e5daa18ab50810e0fd255d1f04303b/tester.worker1/") == true)
    #expect(eth.wallet == "0x9c99d212f7e5daa18ab50810e0fd255d1f04303b")
    #expect(eth.sharesSubmitted == 1 && eth.sharesAccepted == 1)
    #expect(within(eth.reportedHashrate, 30.45e6, 0.001))
    #expect(within(eth.difficulty, 5.0e9, 0.01))

    let xmr = try #require(r.host("192.168.2.92")?.sessions.first)
    #expect("\(xmr.poolIP):\(xmr.poolPort)" == "178.32.196.217:9050")
    #expect(xmr.protocolVariant == "cryptonote")
    #expect(xmr.agent == "xmr-stak-cpu/1.3.0-1.5.0")
    #expect(xmr.login?.hasPrefix("4BCeEPhodgPM") == true && xmr.worker == "ryzen")
    #expect(xmr.sharesSubmitted == 30 && xmr.sharesAccepted == 30)  // 3 retransmissions not counted
    #expect(xmr.difficulty == 20_000)
    #expect(within(xmr.hashrate?.rate, 520, 0.10))

    let zec = try #require(
      r.host("192.168.2.148")?.sessions.first { $0.poolPort == 3333 && "\($0.poolIP)" == "94.23.199.191" })
    #expect(zec.protocolVariant == "stratum-equihash" && zec.algorithm == "equihash")
    #expect(zec.agent == "EWBF 0.3.4b")
    #expect(zec.login == "t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd.rig4")
    #expect(zec.wallet == "t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd" && zec.worker == "rig4")
    #expect(zec.sharesSubmitted == 46 && zec.sharesAccepted == 45 && zec.sharesRejected == 1)
    #expect(within(zec.difficulty, 16_000, 0.001))
    #expect(within(zec.hashrate?.rate, 674, 0.12))
    #expect(zec.poolDomain == "eu1-zcash.flypool.org" && zec.coin == "ZEC")
    #expect(zec.evidence.contains("subscribe-host:eu1-zcash.flypool.org"))

    // Two workers behind one address: counted as two miners.
    #expect(
      r.host("192.168.2.148")?.minerIdentities == [
        "t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd/rig4 (EWBF 0.3.4b)",
        "t1fJuHWrfcWnYMYyP9VAF96vRnvND2NziMG/c1 (EWBF 0.3.4b)",
      ])
    #expect(r.host("192.168.2.92")?.minerIdentities.count == 1)
    let second = try #require(r.host("192.168.2.148")?.sessions.first { "\($0.poolIP)" == "116.211.167.195" })
    #expect(second.login == "t1fJuHWrfcWnYMYyP9VAF96vRnvND2NziMG.c1" && second.sharesSubmitted == 1)
    #expect(r.anomalies["tcp_retransmission", default: 0] >= 3)
  }

  @Test func bitcoinMidSessionIsFound() throws {
    let r = try scan([Paths.capture("public/zeekcm_bitcoin-mining-in-progress.pcap")])
    #expect(r.miningHosts.count == 1)
    let s = try #require(r.host("10.0.2.15")?.sessions.first)
    #expect("\(s.poolIP):\(s.poolPort)" == "74.84.128.158:3333")
    #expect(s.protocolVariant == "stratum")
    #expect(s.sharesSubmitted == 0 && s.hashrate == nil)
    #expect(s.evidence.contains("method:mining.notify"))
    // bitminter.com is the pool's website; its stratum endpoint is mint.bitminter.com.
    #expect(r.host("10.0.2.15")?.lookups.isEmpty == true)
  }

  @Test func coinhiveLoginsAndBrowserMiner() throws {
    let r = try scan([Paths.capture("public/zeekcm_coinhive-stratum.pcap")])
    let h = try #require(r.host("10.0.2.15"))
    let stratum = h.sessions.filter { $0.protocolVariant == "cryptonote" }
    #expect(stratum.count == 3)
    #expect(stratum.allSatisfy { "\($0.poolIP):\($0.poolPort)" == "192.110.160.114:3333" })
    #expect(stratum.allSatisfy { $0.poolDomain == "la01.supportxmr.com" })
    let logins = Set(stratum.compactMap(\.login))
    #expect(logins.count == 3)
    #expect(logins.contains { $0.hasPrefix("46WNbmwXpYxi") && $0.hasSuffix("W1XmgM") })
    #expect(logins.contains { $0.hasSuffix(".coin-hive") })
    #expect(logins.contains { $0.hasPrefix("46BeWrHpwXmH") && $0.hasSuffix("v16em") })
    #expect(stratum.allSatisfy { $0.sharesSubmitted == 0 && $0.hashrate == nil })
    let browser = try #require(h.sessions.first { $0.poolDomain == "coinhive.com" })
    #expect(browser.finding == .browserMiner && browser.poolName == "Coinhive")
    #expect(browser.evidence == ["dns:coinhive.com", "sni:coinhive.com"])
    #expect(stratum.allSatisfy { $0.finding == .stratum && $0.confidence == .high })
    #expect(r.pools.count == 1)  // the browser-miner service is not counted as a pool
  }

  @Test(arguments: [
    "public/ndpi_jsonrpc.pcap", "public/ndpi_bitcoin.pcap", "public/ndpi_monero.pcap",
    "public/peafowl_ethereum-js-http.pcap",
  ])
  func decoysGiveNoFinding(file: String) throws {
    let r = try scan([Paths.capture(file)])
    #expect(r.hosts.isEmpty)
    #expect(r.capture.packets > 0)
  }

  @Test func everyCaptureTogetherAddsUp() throws {
    let all =
      try FileManager.default.contentsOfDirectory(
        atPath: Paths.captures.appendingPathComponent("public").path
      ).map { "public/" + $0 }
      + FileManager.default.contentsOfDirectory(atPath: Paths.captures.appendingPathComponent("miners").path)
      .map { "miners/" + $0 }
    #expect(all.count == 13)
    let r = try scan(all.sorted().map(Paths.capture))
    // 6 recorded miners (the TLS one to a bare address by its rhythm) + 3 hosts of ndpi_mining +
    // 10.0.2.15 of the two Zeek captures
    #expect(r.miningHosts.count == 10)
  }
}
