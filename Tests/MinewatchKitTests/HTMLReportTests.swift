import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// Chromium from Debian, headless: the page as a browser builds it, and a screenshot.
enum Browser {
  static let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }

  static func run(_ args: [String]) throws -> String {
    let chromium = try #require(path, "chromium is missing: make test-deps installs it")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: chromium)
    // Root needs --no-sandbox; a profile of its own keeps parallel runs apart.
    p.arguments =
      [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--hide-scrollbars", "--user-data-dir=" + Paths.scratch(UUID().uuidString + "-chromium"),
      ] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }

  /// The DOM after parsing, serialised by the browser.
  static func dom(_ html: String) throws -> String { try run(["--dump-dom", "file://" + html]) }

  /// A PNG screenshot; returns its width and height from the IHDR chunk.
  static func screenshot(_ html: String, to png: String) throws -> (Int, Int) {
    _ = try run(["--window-size=1280,1600", "--screenshot=" + png, "file://" + html])
    let b = try [UInt8](Data(contentsOf: URL(fileURLWithPath: png)))
    try #require(b.count > 24 && b[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    let be = { (i: Int) in Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
    return (be(16), be(20))
  }
}

@Suite struct HTMLReportTests {
  /// A scan of real captures with an asset map and evidence, through JSON, into a page.
  @Test func theReportRendersInABrowser() throws {
    var site = SiteSettings()
    site.assets = try scratchFile(
      "assets.csv",
      "10.31.7.0/24,Physics lab,lab-it@example.edu,labs\n10.31.7.25/32,Compute cluster,hpc@example.edu,servers\n"
    )
    site.evidence.directory = Paths.scratch(UUID().uuidString + "-evidence")
    var limits = EngineLimits()
    site.apply(to: &limits)
    let scanner = try Scanner(signatures: loadSignatures(), limits: limits)
    try site.apply(to: scanner.pipeline)
    let report = try scanner.scan(
      files: ["btc_sha256d_cpuminer_eth.pcap", "xmr_rx0_plain_eth.pcap"].map { Paths.capture("miners/" + $0) }
    )
    let json = Paths.scratch(UUID().uuidString + "-scan.json")
    try report.jsonData().write(to: URL(fileURLWithPath: json))
    let page = try ReportPage(contentsOf: json)
    #expect(page.hosts.map(\.ip) == ["10.31.7.23", "10.31.7.25"])
    #expect(page.units.map(\.name).sorted() == ["Compute cluster", "Physics lab"])
    #expect(page.evidence.count == 2)
    #expect(abs(page.kWhPerDay - report.power.kWhPerDay) < 1e-12)
    let html = Paths.scratch(UUID().uuidString + "-report.html")
    try page.html().write(toFile: html, atomically: true, encoding: .utf8)

    let dom = try Browser.dom(html)
    #expect(dom.contains("<td class=\"num\" id=\"total-hosts\">2</td>"))
    #expect(dom.components(separatedBy: "<tr class=\"unit\">").count - 1 == 2)
    #expect(dom.contains("id=\"host-10.31.7.23\"") && dom.contains("id=\"host-10.31.7.25\""))
    #expect(dom.components(separatedBy: "<tr class=\"evidence\">").count - 1 == 2)
    // Two timelines per host, each a line through the capture's intervals.
    let lines = dom.components(separatedBy: "<polyline class=\"series\" points=\"").dropFirst()
    #expect(lines.count == 4)
    for l in lines { #expect(l.prefix { $0 != "\"" }.split(separator: " ").count >= 4) }
    #expect(dom.contains("class=\"kind-hijacked\">hijacked</span>"))  // the server mining RandomX

    let png = Paths.scratch("report.png")
    let (w, h) = try Browser.screenshot(html, to: png)
    #expect(w == 1280 && h == 1600)
    let size = try FileManager.default.attributesOfItem(atPath: png)[.size] as? Int ?? 0
    #expect(size > 40_000, "a blank page compresses to a few kB")
    print("report screenshot: \(png)")
  }

  /// Logins come from the traffic: markup in them is text on the page, never markup.
  @Test func hostileTextStaysText() throws {
    let hostile = #"<script>document.title='owned'</script><img src=x>"#
    let (r, _) = try scanForged("hostile-login.pcap", site: SiteSettings()) { w in
      let c = Conversation(
        writer: w, client: Peer("10.9.9.9", 40000), server: Peer("203.0.113.50", 3333),
        startNs: 1_700_000_000 * 1_000_000_000)
      Scenarios.stratum(
        c, login: hostile.replacingOccurrences(of: "'", with: "\\u0027"), difficulty: 1, shares: 3,
        interval: 5)
    }
    #expect(r.allSessions.first?.login?.hasPrefix("<script>") == true)
    let json = Paths.scratch(UUID().uuidString + "-hostile.json")
    try r.jsonData().write(to: URL(fileURLWithPath: json))
    let html = Paths.scratch(UUID().uuidString + "-hostile.html")
    try ReportPage(contentsOf: json).html().write(toFile: html, atomically: true, encoding: .utf8)
    let dom = try Browser.dom(html)
    #expect(!dom.contains("<script") && !dom.contains("<img"))
    #expect(dom.contains("&lt;script&gt;document.title="))
    #expect(dom.contains("<title>minewatch report</title>"))
  }

  @Test func inputThatIsNeitherIsAOneLineError() throws {
    let path = try scratchFile("not-a-report.txt", "hello\n")
    #expect(throws: MinewatchError.self) { try ReportPage(contentsOf: path) }
    do {
      _ = try ReportPage(contentsOf: path)
    } catch let e as MinewatchError {
      #expect(
        e.description.hasSuffix(
          ":1: neither a scan report (minewatch scan --format json) nor a daemon JSON log line"))
    }
  }
}
