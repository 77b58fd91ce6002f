import Foundation
import Testing

@testable import MinewatchKit

/// Three sensors' daemon logs, as `minewatch run` writes them over real miner captures, into one
/// page: the host two sensors saw counts once, each sensor has its row, and the days line up.
@Suite struct MultiSensorReportTests {
  static let miners = "miners/"

  /// The daemon over the captures on packet time, as sensor `name`; returns its JSON log.
  func sensorLog(_ name: String, _ captures: [String]) throws -> String {
    let log = Paths.scratch(UUID().uuidString + "-\(name).jsonl")
    let r = try CLITests().run(
      ["run", "--syslog", "none", "--json-log", log, "--sensor", name, "--summary-interval", "60"]
        + captures.flatMap { ["--replay", Paths.capture(Self.miners + $0)] })
    #expect(r.status == 0, "\(r.stderr)")
    return log
  }

  @Test func threeSensorsOverlappingInOneHost() throws {
    // North and south both see 10.31.7.23 (the Bitcoin miner); east sees a TLS miner days later.
    let north = try sensorLog("gw-north", ["btc_sha256d_cpuminer_eth.pcap", "ltc_scrypt_cpuminer_eth.pcap"])
    let south = try sensorLog("gw-south", ["btc_sha256d_cpuminer_eth.pcap", "xmr_rx0_plain_eth.pcap"])
    let east = try sensorLog("gw-east", ["xmr_rx0_tls_ip_only_eth.pcap"])
    let pages = try [north, south, east].map { try ReportPage(contentsOf: $0) }
    #expect(pages.map(\.sensor) == ["gw-north", "gw-south", "gw-east"])
    #expect(pages.map(\.hosts.count) == [2, 2, 1])
    let btc = try #require(pages[0].hosts.first { $0.ip == "10.31.7.23" })
    let btcRate = try #require(btc.rates["sha256d"])
    let btcSouth = try #require(pages[1].hosts.first { $0.ip == "10.31.7.23" }?.rates["sha256d"])
    #expect(btcRate == btcSouth)

    let page = ReportPage(merging: pages)
    // Five sightings, four machines.
    #expect(page.hosts.map(\.ip) == ["10.31.7.23", "10.31.7.24", "10.31.7.25", "10.31.7.40"])
    #expect(page.hosts[0].sensors == ["gw-north", "gw-south"])
    // The shared host's hashrate and traffic count once in the totals.
    #expect(page.totalRates["sha256d"] == btcRate)
    let perHostMbps = page.hosts.map { $0.mbps ?? 0 }.reduce(0, +)
    #expect(abs((page.totalMbps ?? -1) - perHostMbps) < 1e-12)
    #expect(Set(page.totalRates.keys) == ["sha256d", "scrypt", "randomx"])
    let watts = page.hosts.compactMap(\.powerW).reduce(0, +)
    #expect(abs(page.kWhPerDay - watts * 24 / 1000) < 1e-9)
    #expect(abs(page.co2KgPerDay - page.kWhPerDay * 1.0) < 1e-9)
    #expect(abs(page.coalKgPerDay - page.kWhPerDay * 0.404) < 1e-9)

    let rows = Dictionary(uniqueKeysWithValues: page.sensorRows.map { ($0.name, $0) })
    #expect(page.sensorRows.map(\.name) == ["gw-east", "gw-north", "gw-south"])
    #expect(rows["gw-north"]?.hosts == 2 && rows["gw-north"]?.onlyHere == 1)
    #expect(rows["gw-south"]?.hosts == 2 && rows["gw-south"]?.onlyHere == 1)
    #expect(rows["gw-east"]?.hosts == 1 && rows["gw-east"]?.onlyHere == 1)
    #expect(rows["gw-north"]?.rates["sha256d"] == btcRate && rows["gw-south"]?.rates["sha256d"] == btcRate)

    // Day by day: three hosts mined on 23 November, one on 2 December, none in between.
    let days = Dictionary(uniqueKeysWithValues: page.days.map { ($0.day, $0.hosts) })
    #expect(page.days.first?.day == "2026-11-23" && page.days.last?.day == "2026-12-02")
    #expect(days["2026-11-23"] == 3 && days["2026-12-02"] == 1 && days["2026-11-28"] == 0)
    #expect(page.days.count == 10)

    // The page as the CLI writes it, as a browser builds it.
    let html = Paths.scratch(UUID().uuidString + "-province.html")
    let r = try CLITests().run(["report", north, south, east, "-o", html])
    #expect(r.status == 0, "\(r.stderr)")
    let dom = try Browser.dom(html)
    #expect(dom.contains("<td class=\"num\" id=\"total-hosts\">4</td>"))
    #expect(dom.components(separatedBy: "<tr class=\"sensor\">").count - 1 == 3)
    #expect(dom.components(separatedBy: "<tr class=\"day\">").count - 1 == 10)
    #expect(dom.contains("seen by gw-north, gw-south"))
    #expect(dom.contains("<tr class=\"day\"><td>2026-11-23</td><td class=\"num\">3</td>"))
    let png = Paths.scratch(UUID().uuidString + "-province.png")
    let (w, h) = try Browser.screenshot(html, to: png)
    #expect(w == 1280 && h == 1600)
  }

  /// A scan report names its sensor too (`--sensor`, else the host name), and merges with logs.
  @Test func scanReportsNameTheirSensor() throws {
    let cli = CLITests()
    let capture = Paths.capture(Self.miners + "ltc_scrypt_cpuminer_eth.pcap")
    let named = try cli.run(["scan", "--format", "json", "--sensor", "gw-west", capture])
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(named.stdout.utf8)) as? [String: Any])
    #expect(doc["sensor"] as? String == "gw-west")
    let validator = try SchemaValidator(
      url: Paths.repo.appendingPathComponent("Tests/Fixtures/scan-report.schema.json"))
    #expect(validator.validate(doc) == [])
    let plain = try cli.run(["scan", "--format", "json", capture])
    var host = [CChar](repeating: 0, count: 256)
    gethostname(&host, host.count)
    let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    #expect(plain.stdout.contains("\"sensor\":\"\(hostName)\""))
    let bad = try cli.run(["scan", "--sensor", "no spaces!", capture])
    #expect(
      bad.status == 2 && bad.stderr.contains("sensor: 'no spaces!' must be 1 to 64 letters"), "\(bad.stderr)")

    let west = try scratchFile("west.json", named.stdout)
    let north = try sensorLog("gw-north", ["ltc_scrypt_cpuminer_eth.pcap"])
    let page = ReportPage(merging: try [west, north].map { try ReportPage(contentsOf: $0) })
    #expect(page.sensorRows.map(\.name) == ["gw-north", "gw-west"])
    #expect(page.hosts.map(\.ip) == ["10.31.7.24"] && page.hosts[0].sensors == ["gw-north", "gw-west"])
  }

  /// A week of one sensor as logrotate leaves it — the oldest part gzip-compressed, the one
  /// before plain (delaycompress), the current file — is one sensor with the same hosts.
  @Test func rotatedAndCompressedLogsAreOneSensor() throws {
    let log = try sensorLog("gw-north", ["btc_sha256d_cpuminer_eth.pcap", "ltc_scrypt_cpuminer_eth.pcap"])
    let whole = try ReportPage(contentsOf: log)
    let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    #expect(lines.count > 9)
    let third = lines.count / 3
    let parts = [lines[..<third], lines[third..<2 * third], lines[(2 * third)...]]
    let base = Paths.scratch(UUID().uuidString + "-alerts.jsonl")
    let names = [base + ".2", base + ".1", base]
    for (name, part) in zip(names, parts) {
      try (part.joined(separator: "\n") + "\n").write(toFile: name, atomically: true, encoding: .utf8)
    }
    try SignatureUpdate.run("gzip", [names[0]], what: "the test's rotation")
    let files = [names[0] + ".gz", names[1], names[2]]
    let page = ReportPage(merging: try files.map { try ReportPage(contentsOf: $0) })
    #expect(page.sensorRows.map(\.name) == ["gw-north"] && page.sensorRows[0].inputs == files)
    #expect(page.hosts.map(\.ip) == whole.hosts.map(\.ip) && page.hosts.count == 2)
    #expect(page.startNs == whole.startNs && page.endNs == whole.endNs)

    // A damaged archive is one line; an archive that inflates past the limit is refused.
    let gz = try Data(contentsOf: URL(fileURLWithPath: files[0]))
    let cut = Paths.scratch(UUID().uuidString + "-cut.jsonl.gz")
    try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: cut))
    #expect(throws: MinewatchError.self) { try ReportPage(contentsOf: cut) }
    do {
      _ = try ReportPage(contentsOf: cut)
    } catch {
      #expect("\(error)".contains("damaged gzip data"), "\(error)")
    }
    let zeros = Paths.scratch(UUID().uuidString + "-zeros")
    try Data(count: 4 << 20).write(to: URL(fileURLWithPath: zeros))
    try SignatureUpdate.run("gzip", [zeros], what: "the test's bomb")
    let bomb = try Data(contentsOf: URL(fileURLWithPath: zeros + ".gz"))
    #expect(bomb.count < 64 << 10)
    #expect(throws: Gunzip.Failure.tooLarge(1 << 20)) { try Gunzip.inflate(bomb, limit: 1 << 20) }
    #expect(try Gunzip.inflate(bomb, limit: 8 << 20).count == 4 << 20)
  }

  /// A bad input among good ones: one line naming it, nothing written.
  @Test func aBadInputIsNamed() throws {
    let good = try sensorLog("gw-a", ["ltc_scrypt_cpuminer_eth.pcap"])
    let bad = try scratchFile("bad.jsonl", "{\"event\":\"summary\"}\nnot json\n")
    let out = Paths.scratch(UUID().uuidString + "-never.html")
    let r = try CLITests().run(["report", good, bad, "-o", out])
    #expect(r.status == 2)
    #expect(r.stderr.contains("bad.jsonl:1: neither a scan report"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }
}
