import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

@Suite struct EstimateTests {
  @Test func poissonIntervalMatchesExactBounds() throws {
    // Exact 95 % bounds for a Poisson count (chi-square quantiles / 2): N=1 → [0.0253, 5.572],
    // N=10 → [4.795, 18.39], N=100 → [81.37, 121.6].
    for (n, lo, hi) in [(1, 0.0253, 5.572), (10, 4.795, 18.39), (100, 81.37, 121.6)] {
      let e = try #require(HashrateEstimate.from(hashes: Double(n), shares: n, seconds: 1))
      #expect(abs(e.low - lo) / lo < 0.02, "N=\(n) low \(e.low)")
      #expect(abs(e.high - hi) / hi < 0.02, "N=\(n) high \(e.high)")
      #expect(e.rate == Double(n))
    }
  }

  @Test func unknownStaysUnknown() {
    #expect(HashrateEstimate.from(hashes: 0, shares: 0, seconds: 100) == nil)
    #expect(HashrateEstimate.from(hashes: 1e9, shares: 3, seconds: 0.5) == nil)
  }

  @Test func targetsToHashesPerShare() throws {
    #expect(ShareTargets.cryptoNoteDifficulty("dc460300") == 20_000)  // PROTOCOLS.md
    #expect(ShareTargets.cryptoNoteDifficulty("00000000") == nil)
    #expect(ShareTargets.cryptoNoteDifficulty("zz460300") == nil)
    let t64 = try #require(ShareTargets.cryptoNoteDifficulty("0000000000100000"))  // LE 0x0000100000000000
    #expect(t64 == Double(UInt64.max / 0x0000_1000_0000_0000))
    let sol = try #require(
      ShareTargets.hashesFor256BitTarget("0004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a"))
    #expect(abs(sol - 16_000) < 0.01)
    let eth = try #require(
      ShareTargets.hashesFor256BitTarget("0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e")
    )
    #expect(abs(eth - 5.0e9) / 5.0e9 < 0.001)
    #expect(ShareTargets.hashesFor256BitTarget("0") == nil)
    #expect(ShareTargets.hashesFor256BitTarget(String(repeating: "f", count: 65)) == nil)
  }

  @Test func reportedRatesInHex() {
    #expect(hexOrDecimal("0x1d08a61") == 30_444_129)  // PROTOCOLS.md
    #expect(hexOrDecimal("500000") == 500_000)
    #expect(hexOrDecimal("0xZZ") == nil)
  }

  @Test func unitsScaleUpToPetahashes() {
    #expect(Units.rate(146) == "146 H/s")
    #expect(Units.rate(6.56e6) == "6.56 MH/s")
    #expect(Units.rate(10.2e15) == "10.2 PH/s")
    #expect(Units.rate(nil) == "unknown")
  }

  @Test func loginsSplitIntoWalletOrAccountAndWorker() {
    typealias P = LoginParser.Parts
    #expect(LoginParser.split("mwlab.rig01") == P(wallet: nil, account: "mwlab", worker: "rig01"))
    #expect(
      LoginParser.split("t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd.rig4")
        == P(wallet: "t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd", account: nil, worker: "rig4"))
    #expect(
      LoginParser.split("0x9c99d212f7e5daa18ab50810e0fd255d1f04303b/tester.worker1/a@b")
        == P(wallet: "0x9c99d212f7e5daa18ab50810e0fd255d1f04303b", account: nil, worker: "tester.worker1"))
    let xmr =
      "4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1dtSMLTLCEYvAj9QXjXAfF7CugEbmfBhgkqHbdgK9b2wKA6nqRZQCgvCDm"
    #expect(LoginParser.split(xmr + ".cb2b73.ryzen") == P(wallet: xmr, account: nil, worker: "ryzen"))
    #expect(LoginParser.split(xmr + "+50000") == P(wallet: xmr, account: nil, worker: nil))
    #expect(
      LoginParser.split("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq.w1").wallet
        == "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
  }

  @Test func signatureErrorsNameFileAndLine() throws {
    let dir = URL(fileURLWithPath: Paths.scratch("sigs-\(UUID().uuidString)"))
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data("sha256d 2^32 BTC\n".utf8).write(to: dir.appendingPathComponent("algorithms.txt"))
    try Data("# fine\nsupportxmr.com pool XMR SupportXMR\nbad_domain..com pool XMR X\n".utf8).write(
      to: dir.appendingPathComponent("pools.txt"))
    #expect(throws: MinewatchError.self) { try Signatures(directory: dir) }
    do {
      _ = try Signatures(directory: dir)
    } catch {
      #expect("\(error)".hasSuffix("pools.txt:3: 'bad_domain..com' is not a domain name"))
    }
    try Data("supportxmr.com miner XMR SupportXMR\n".utf8).write(to: dir.appendingPathComponent("pools.txt"))
    #expect(throws: MinewatchError.self) { try Signatures(directory: dir) }
    try Data([0x00, 0xff, 0x10]).write(to: dir.appendingPathComponent("pools.txt"))
    #expect(throws: MinewatchError.self) { try Signatures(directory: dir) }
  }

  @Test func shippedSignaturesLoad() throws {
    let s = try loadSignatures()
    #expect(s.algorithm(forCoin: "LTC")?.name == "scrypt")
    #expect(s.algorithms["sha256d"]?.unit == .perDifficulty(4_294_967_296))
    #expect(s.domains.contains { $0.name == "supportxmr.com" && $0.kind == .pool })
  }
}

@Suite struct HostileSignatureFileTests {
  func error(_ files: [String: Data]) throws -> String {
    let dir = URL(fileURLWithPath: Paths.scratch("sigs-\(UUID().uuidString)"))
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data("sha256d 2^32 BTC\n".utf8).write(to: dir.appendingPathComponent("algorithms.txt"))
    for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
    do {
      _ = try Signatures(directory: dir)
      return "loaded"
    } catch {
      return "\(error)"
    }
  }

  @Test func overLongLinesBinaryAndDirectories() throws {
    let long =
      "good.example pool XMR Good\n" + String(repeating: "a", count: 300) + ".example pool XMR Long\n"
    #expect(
      try error(["pools.txt": Data(long.utf8)]).hasSuffix(
        "pools.txt:2: '\(String(repeating: "a", count: 300)).example' is not a domain name"))
    #expect(try error(["pools.txt": Data([0x61, 0x00, 0x62])]).hasSuffix("pools.txt:1: not UTF-8 text"))
    #expect(try error(["pools.txt": Data([0xc3, 0x28])]).hasSuffix("pools.txt:1: not UTF-8 text"))
    #expect(
      try error(["agents.txt": Data("xmrig/ quantum XMRig\n".utf8), "pools.txt": Data()]).hasSuffix(
        "agents.txt:1: hardware 'quantum' is not cpu, gpu, asic, any or proxy"))
    #expect(
      try error(["addresses.txt": Data("999.1.1.1 XMR x\n".utf8), "pools.txt": Data()]).hasSuffix(
        "addresses.txt:1: expected <IP address> <coins> <pool name>"))
    let dir = URL(fileURLWithPath: Paths.scratch("sigs-dir-\(UUID().uuidString)"))
    try FileManager.default.createDirectory(
      at: dir.appendingPathComponent("pools.txt"), withIntermediateDirectories: true)
    try Data("sha256d 2^32 BTC\n".utf8).write(to: dir.appendingPathComponent("algorithms.txt"))
    #expect(throws: MinewatchError.self) { try Signatures(directory: dir) }
  }
}

@Suite struct SessionBoundsTests {
  @Test func unansweredSharesAndStatedRatesStayBounded() throws {
    let r = try scanForged("unanswered.pcap") { w in
      let c = Conversation(
        writer: w, client: Peer("10.5.5.5", 40000), server: Peer("198.51.100.50", 3333),
        startNs: 1_700_000_000_000_000_000)
      c.send(fromClient: false, line: #"{"id":null,"method":"mining.set_difficulty","params":[1]}"#)
      var lines = ""
      for i in 0..<3000 {
        lines += #"{"id":\#(i),"method":"mining.submit","params":["a.b","1","2","3","4"]}"# + "\n"
        lines +=
          #"{"id":\#(i),"method":"mining.hashrate","params":["0x\#(String(1000 + i, radix: 16))"]}"# + "\n"
      }
      c.send(fromClient: true, Array(lines.utf8))
    }
    let s = try #require(r.allSessions.first)
    #expect(s.sharesSubmitted == 3000 && s.sharesAccepted == 0)
    #expect(r.anomalies["pending_shares_evicted"] == 2048)  // two full tables of 1,024 let go
    let mean = (1000.0 + 3999.0) / 2  // the running mean of the 3,000 stated rates
    #expect(abs((s.reportedHashrate ?? 0) - mean) < 1e-6)
  }
}

@Suite struct EnergyTests {
  @Test func shippedTableLoadsInJoulesPerHash() throws {
    let s = try loadSignatures()
    let sha = try #require(s.energy["sha256d"])
    #expect(abs(sha.typical - 29.5e-12) < 1e-18)  // S19 Pro: 3250 W / 110 TH/s
    #expect(sha.best < sha.typical && sha.typical < sha.worst)
    #expect(abs((s.energy["randomx"]?.typical ?? 0) - 0.020) < 1e-12)
    #expect(abs((s.energy["equihash"]?.best ?? 0) - 3.6e-3) < 1e-12)
  }

  @Test func handComputedCase() throws {
    // 4,294,967,296 H/s of SHA-256d (50 shares at difficulty 2 over 100 s) at 29.5 J/TH:
    // 0.1267 W, 0.0030408 kWh a day, 1.10990 kWh a year.
    let h = HashrateEstimate(rate: 4_294_967_296, low: 3_000_000_000, high: 5_600_000_000)
    let p = PowerEstimate.from(h, Efficiency(best: 17.5e-12, typical: 29.5e-12, worst: 98e-12))
    #expect(abs(p.watts - 0.126701535) < 1e-8)
    #expect(abs(p.low - 0.0525) < 1e-9 && abs(p.high - 0.5488) < 1e-9)
    #expect(abs(p.kWhPerDay - 0.003040836) < 1e-9)
    #expect(abs(p.kWhPerYear - 1.109905) < 1e-5)
  }

  @Test func reportTotalsWithTheProvincesFactors() throws {
    let r = try scan([
      Paths.capture("miners/btc_sha256d_cpuminer_eth.pcap"), Paths.capture("miners/xmr_rx0_plain_eth.pcap"),
    ])
    let btc = try #require(r.host("10.31.7.23")?.sessions.first)
    let xmr = try #require(r.host("10.31.7.25")?.sessions.first)
    // Each session: its estimate times the typical figure of its algorithm.
    #expect(abs((btc.power?.watts ?? 0) - (btc.hashrate?.rate ?? 0) * 29.5e-12) < 1e-12)
    #expect(abs((xmr.power?.watts ?? 0) - (xmr.hashrate?.rate ?? 0) * 0.020) < 1e-9)
    let total = (btc.power?.watts ?? 0) + (xmr.power?.watts ?? 0)
    #expect(abs(r.power.watts - total) < 1e-9)
    let totals =
      try #require(try JSONSerialization.jsonObject(with: r.jsonData()) as? [String: Any])["totals"]
      as? [String: Any]
    let kwh = try #require(totals?["energy_kwh_per_day"] as? Double)
    #expect(abs(kwh - total * 24 / 1000) < 1e-9)
    #expect(abs((totals?["coal_kg_per_day"] as? Double ?? 0) - kwh * 0.404) < 1e-9)
    #expect(abs((totals?["co2_kg_per_day"] as? Double ?? 0) - kwh * 1.0) < 1e-9)
    #expect(Units.rate(0.1267, unit: "W") == "127 mW")
  }
}
