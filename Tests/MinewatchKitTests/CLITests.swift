import CaptureForge
import Foundation
import Testing

/// The `minewatch` executable as a user runs it: output, exit codes, errors, stdin.
@Suite struct CLITests {
  static var binary: String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for dir in [
      beside, beside.deletingLastPathComponent(), Paths.repo.appendingPathComponent(".build/debug"),
    ] {
      let p = dir.appendingPathComponent("minewatch").path
      if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return Paths.repo.appendingPathComponent(".build/debug/minewatch").path
  }

  struct Result {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  func run(_ args: [String], stdin: Data? = nil) throws -> Result {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Self.binary)
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["MINEWATCH_SIGNATURES"] = Paths.signatures.path
    p.environment = env
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let input = Pipe()
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Result(
      status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
      stderr: String(decoding: e, as: UTF8.self))
  }

  static let sample = Paths.repo.appendingPathComponent("Tests/Fixtures/sample.pcap").path

  @Test func jsonOutputFollowsTheSchema() throws {
    let validator = try SchemaValidator(
      url: Paths.repo.appendingPathComponent("Tests/Fixtures/scan-report.schema.json"))
    for file in [
      Self.sample, Paths.capture("public/ndpi_mining.pcapng"), Paths.capture("public/ndpi_bitcoin.pcap"),
      Paths.capture("miners/xmr_rx0_tls_sni_eth.pcap"),
    ] {
      let r = try run(["scan", "--format", "json", file])
      #expect(r.status == 0)
      #expect(r.stderr.isEmpty)  // no progress in pipes
      let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
      #expect(validator.validate(doc) == [], "\(file)")
    }
  }

  /// Every alert line the daemon writes (replaying captures with an asset map, evidence and a
  /// one-minute summary) follows the published alert schema, and every event kind shows up.
  @Test func alertLinesFollowTheirSchema() throws {
    let validator = try SchemaValidator(
      url: Paths.repo.appendingPathComponent("Tests/Fixtures/alerts.schema.json"))
    let dir = Paths.scratch(UUID().uuidString + "-alerts")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let log = dir + "/alerts.jsonl"
    let r = try run(
      [
        "run", "--syslog", "none", "--json-log", log, "--summary-interval", "60", "--assets",
        Paths.repo.appendingPathComponent("systemd/assets.example.csv").path, "--evidence-dir",
        dir + "/evidence",
        "--replay", Self.sample, "--replay", Paths.capture("miners/xmr_rx0_reconnect_seedchange_eth.pcap"),
        "--replay", Paths.capture("miners/btc_sha256d_cpuminer_eth.pcap"), "--replay",
        Paths.capture("miners/xmr_rx0_tls_ip_only_eth.pcap"),
      ])
    #expect(r.status == 0, "\(r.stderr)")
    let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    var kinds: Set<String> = []
    for line in lines {
      let alert = try JSONSerialization.jsonObject(with: Data(line.utf8))
      #expect(validator.validate(alert) == [], "\(line.prefix(300))")
      if let kind = (alert as? [String: Any])?["event"] as? String { kinds.insert(kind) }
    }
    #expect(
      kinds.isSuperset(of: [
        "session_start", "session_end", "host_update", "host_table", "summary", "evidence",
      ]))
    // The encrypted miner found by its rhythm is among them, its shares marked as estimated.
    #expect(
      lines.contains {
        $0.contains(#""finding":"encrypted-pattern""#) && $0.contains(#""shares_estimated":true"#)
      })
    // And a line that breaks it is caught: the validator is not a rubber stamp.
    #expect(!validator.validate(["event": "summary", "time": "x"]).isEmpty)
    #expect(!validator.validate(["event": "session_start", "time": "x", "surprise": 1]).isEmpty)
  }

  @Test func sampleReportsItsThreeMiners() throws {
    let r = try run(["scan", "--format", "json", Self.sample])
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    let totals = try #require(doc["totals"] as? [String: Any])
    #expect(totals["hosts"] as? Int == 3)
    #expect(totals["pools"] as? Int == 3)
    let hosts = try #require(doc["hosts"] as? [[String: Any]])
    #expect(hosts.map { $0["ip"] as? String } == ["10.31.7.23", "10.31.7.25", "10.31.7.26"])
    let table = try run(["scan", Self.sample])
    #expect(table.stdout.contains("totals: 3 mining host(s), 3 pool(s)"))
    #expect(table.stdout.contains("sha256d: 7.16 MH/s"))
  }

  /// scan --config --evidence, then report and evidence verify, as an investigator runs them.
  @Test func scanReportAndVerifyThroughTheBinary() throws {
    let dir = Paths.scratch(UUID().uuidString + "-cli-evidence")
    let conf = try scratchFile(
      "site.conf", "assets = \(Paths.repo.path)/systemd/assets.example.csv\nprobe_targets = 16\n")
    let scanned = try run([
      "scan", "--format", "json", "--config", conf, "--evidence", dir,
      Paths.capture("miners/xmr_rx0_plain_eth.pcap"),
    ])
    #expect(scanned.status == 0, "\(scanned.stderr)")
    let json = try scratchFile("cli-scan.json", scanned.stdout)
    let html = Paths.scratch(UUID().uuidString + "-cli.html")
    let reported = try run(["report", json, "-o", html])
    #expect(reported.status == 0 && reported.stderr.isEmpty)
    let page = try String(contentsOfFile: html, encoding: .utf8)
    #expect(page.contains("id=\"host-10.31.7.25\"") && page.contains("Campus (unmapped)"))
    let ok = try run(["evidence", "verify", dir])
    #expect(
      ok.status == 0 && ok.stdout.hasSuffix("1 records, chain intact, every file matches its SHA-256\n"))
    // One byte changed in the evidence file: exit 1 and the file named.
    let file = try #require(
      try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasSuffix(".pcap") })
    let handle = try #require(FileHandle(forUpdatingAtPath: dir + "/" + file))
    try handle.seek(toOffset: 100)
    handle.write(Data([0x42]))
    try handle.close()
    let bad = try run(["evidence", "verify", dir])
    #expect(bad.status == 1 && bad.stdout == "\(dir): seq 1: \(file) does not match its SHA-256 (modified)\n")
    // Neither report nor log: one line, exit 2.
    let wrong = try run(["report", Paths.capture("miners/xmr_rx0_plain_eth.pcap")])
    #expect(wrong.status == 2 && wrong.stderr.split(separator: "\n").count == 1)
  }

  @Test func exitCodes() throws {
    #expect(try run(["scan", Self.sample]).status == 0)
    #expect(try run(["scan", "--exit-code", Self.sample]).status == 1)
    #expect(try run(["scan", "--exit-code", Paths.capture("public/ndpi_bitcoin.pcap")]).status == 0)
    let missing = try run(["scan", "/nonexistent/x.pcap"])
    #expect(missing.status == 2)
    #expect(missing.stderr == "minewatch: /nonexistent/x.pcap: cannot open: No such file or directory\n")
    #expect(try run(["scan"]).status != 0)
    #expect(try run(["scan", "--format", "xml", Self.sample]).status == 2)
  }

  @Test func garbageAndTruncatedFiles() throws {
    let garbage = Paths.scratch("garbage.pcap")
    try Data("this is not a capture file at all".utf8).write(to: URL(fileURLWithPath: garbage))
    let g = try run(["scan", garbage])
    #expect(g.status == 2)
    #expect(g.stderr.hasPrefix("minewatch: \(garbage): not a readable capture:"))
    #expect(g.stderr.split(separator: "\n").count == 1)

    // The sample cut in the middle of a record: what was read is reported, with a warning.
    let whole = try Data(contentsOf: URL(fileURLWithPath: Self.sample))
    let cut = Paths.scratch("cut.pcap")
    try whole.prefix(whole.count / 2 + 7).write(to: URL(fileURLWithPath: cut))
    let t = try run(["scan", "--format", "json", cut])
    #expect(t.status == 0)
    #expect(t.stderr.contains("warning: \(cut): truncated"))
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(t.stdout.utf8)) as? [String: Any])
    let capture = try #require(doc["capture"] as? [String: Any])
    #expect((capture["warnings"] as? [String])?.count == 1)
    #expect((doc["hosts"] as? [Any])?.isEmpty == false)

    let unsupported = Paths.scratch("usb.pcap")
    var header = [UInt8](whole.prefix(24))
    header[20] = 189  // LINKTYPE_USB_LINUX_MMAPPED
    try Data(header).write(to: URL(fileURLWithPath: unsupported))
    let u = try run(["scan", unsupported])
    #expect(u.status == 2)
    #expect(u.stderr.contains("link type 189"))
  }

  @Test func readsStandardInput() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Self.sample))
    let r = try run(["scan", "--format", "json", "-"], stdin: data)
    #expect(r.status == 0)
    #expect(r.stdout.contains("\"10.31.7.25\""))
  }
}

/// Active verification through the binary, as an operator meets it: the daemon (replaying a
/// capture) verifies a suspect found by rhythm against a real local TLS pool, alerts the
/// verdict, keeps it in the verdict file, and then finds another host's flow to it; `scan
/// --verdicts` and `verify` read the same file.
@Suite struct VerifyCLITests {
  @Test func daemonVerifiesASuspectAndFindsItsOtherClients() throws {
    let pools = try LocalPools(repo: Paths.repo)
    let port = pools.ports["cryptonote_tls"]!
    let dir = Paths.scratch(UUID().uuidString + "-verify")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let capture = dir + "/suspect.pcap"
    // After the verdict: a second host, twenty seconds of encrypted traffic to the same pool.
    try writeSuspectOfLocalPool(
      capture, port: port, miner: "10.36.1.1", other: "10.36.1.2", otherAfter: 600, seed: 12
    ).close()
    let verdicts = dir + "/verdicts.json"
    let conf = try scratchFile(
      "verify.conf",
      "verify = yes\nverify_timeout = 3\nverify_verdicts = \(verdicts)\nsummary_interval = 60\n")
    let log = dir + "/alerts.jsonl"
    let r = try CLITests().run([
      "run", "--config", conf, "--syslog", "none", "--json-log", log, "--replay", capture,
    ])
    #expect(r.status == 0, "\(r.stderr)")
    // Every probe is logged.
    #expect(r.stderr.contains("verification probe 127.0.0.1:\(port) cryptonote over TLS: pool"))

    let validator = try SchemaValidator(
      url: Paths.repo.appendingPathComponent("Tests/Fixtures/alerts.schema.json"))
    let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    var alerts: [[String: Any]] = []
    for line in lines {
      let alert = try JSONSerialization.jsonObject(with: Data(line.utf8))
      #expect(validator.validate(alert) == [], "\(line.prefix(300))")
      if let a = alert as? [String: Any] { alerts.append(a) }
    }
    let verify = try #require(alerts.first { $0["event"] as? String == "verify" })
    #expect(verify["status"] as? String == "pool" && verify["family"] as? String == "cryptonote")
    #expect(verify["tls"] as? Bool == true && (verify["probes"] as? [Any])?.count == 1)
    #expect(alerts.filter { $0["event"] as? String == "verify" }.count == 1)  // once per endpoint
    let second = try #require(
      alerts.first { $0["event"] as? String == "session_start" && $0["host"] as? String == "10.36.1.2" })
    #expect(second["finding"] as? String == "pool-connection" && second["confidence"] as? String == "high")
    let firstEnd = try #require(
      alerts.first { $0["event"] as? String == "session_end" && $0["host"] as? String == "10.36.1.1" })
    #expect(
      firstEnd["finding"] as? String == "encrypted-pattern" && firstEnd["confidence"] as? String == "high")
    #expect(firstEnd["coin"] as? String == "XMR" && firstEnd["hashrate_hps"] is Double)

    // The verdict file serves a scan and the verify command; nothing is contacted again.
    let scan = try CLITests().run(["scan", "--format", "json", "--verdicts", verdicts, capture])
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(scan.stdout.utf8)) as? [String: Any])
    let hosts = (doc["hosts"] as? [[String: Any]])?.compactMap { $0["ip"] as? String }
    #expect(hosts?.sorted() == ["10.36.1.1", "10.36.1.2"])
    let again = try CLITests().run(["verify", "--verdicts", verdicts, "127.0.0.1:\(port)"])
    #expect(again.status == 0 && again.stderr.contains("cached verdict, not contacted"))
    #expect(!again.stderr.contains("probe") && again.stdout.hasPrefix("127.0.0.1:\(port) pool"))
  }

  @Test func verifyCommandRefusesBadInput() throws {
    for args in [
      ["verify", "127.0.0.1"], ["verify", "--tls", "maybe", "127.0.0.1:1"],
      ["verify", "--timeout", "0", "127.0.0.1:1"],
    ] {
      let r = try CLITests().run(args)
      #expect(r.status == 2 && r.stderr.hasPrefix("minewatch: "), "\(args)")
    }
  }
}
