import Foundation
import Testing

@testable import MinewatchDaemon

/// The daemon for real: a network namespace of the test's own with a veth pair, `minewatch run`
/// on one end, tcpreplay on the other, and a real rsyslogd on a local socket. Needs root (CI
/// runs as root); sends nothing outside the namespace.
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root for ip netns and live capture"))
struct LiveDaemonTests {
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

  @discardableResult
  static func sh(_ args: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
  }

  /// Polls until the condition holds or the time is up.
  static func wait(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
      if condition() { return true }
      usleep(100_000)
    }
    return condition()
  }

  /// A network namespace of the test's own with a veth pair `a`–`b` in it, every link up.
  static func vethNamespace(_ ns: String, _ a: String, _ b: String) throws {
    #expect(try sh(["ip", "netns", "add", ns]) == 0)
    for cmd in [
      ["ip", "link", "add", a, "type", "veth", "peer", "name", b], ["ip", "link", "set", a, "up"],
      ["ip", "link", "set", b, "up"], ["ip", "link", "set", "lo", "up"],
    ] {
      #expect(try sh(["ip", "netns", "exec", ns] + cmd) == 0, "\(cmd)")
    }
  }

  /// A daemon's /metrics inside the namespace, read as Prometheus would.
  static func scrape(_ ns: String, port: Int) throws -> String {
    let curl = Process()
    curl.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    curl.arguments = [
      "netns", "exec", ns, "curl", "-s", "--max-time", "5", "http://127.0.0.1:\(port)/metrics",
    ]
    let out = Pipe()
    curl.standardOutput = out
    try curl.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    curl.waitUntilExit()
    return text
  }

  @Test func liveCaptureAlertsToARealSyslog() throws {
    let ns = "mwtest\(getpid())"
    let dir = Paths.scratch("live")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    chmod(dir, 0o777)  // the daemon writes its JSON log here after dropping to nobody
    defer { _ = try? Self.sh(["ip", "netns", "del", ns]) }
    try Self.vethNamespace(ns, "mw0", "mw1")
    // A signature directory of its own, to break and mend for SIGHUP.
    let sigs = dir + "/signatures"
    try FileManager.default.copyItem(atPath: Paths.signatures, toPath: sigs)
    let sock = dir + "/log.sock"
    let notify = try DatagramReceiver(path: dir + "/notify.sock")
    chmod(notify.path, 0o777)  // as systemd's is: writable by the service's user
    notify.startCollecting()
    defer { notify.stopCollecting() }

    // The daemon first, with syslog not there yet: its alerts must queue and arrive later.
    let daemon = Process()
    daemon.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    daemon.arguments = [
      "netns", "exec", ns, Self.binary, "run", "-i", "mw1", "--syslog", "unix:" + sock, "--summary-interval",
      "10",
      "--signatures", sigs, "--json-log", dir + "/alerts.jsonl", "--user", "nobody", "--sensor", "campus-gw1",
      "--metrics-listen", "127.0.0.1:9531",
    ]
    daemon.environment = ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000", "PATH": "/usr/bin:/bin"]
    let stderr = Pipe()
    daemon.standardError = stderr
    daemon.standardOutput = FileHandle.nullDevice
    try daemon.run()
    defer {
      // Whatever failed above, the daemon this test started does not outlive it.
      if daemon.isRunning {
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
      }
    }
    #expect(Self.wait(10) { notify.received.contains { $0.hasPrefix("READY=1") } })

    // Privileges dropped once the capture was open, in every thread (a zombie thread, if any,
    // runs nothing).
    let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.processIdentifier)/task")
    var live = 0
    for t in tasks {
      let status = try String(
        contentsOfFile: "/proc/\(daemon.processIdentifier)/task/\(t)/status", encoding: .utf8)
      let lines = status.split(separator: "\n")
      if lines.first(where: { $0.hasPrefix("State:") })?.contains("Z") == true { continue }
      live += 1
      #expect(lines.first { $0.hasPrefix("Uid:") } == "Uid:\t65534\t65534\t65534\t65534", "thread \(t)")
    }
    #expect(live >= 2)

    // 270 s of a real cpuminer session, thirty times faster, onto the other end of the pair.
    #expect(
      try Self.sh([
        "ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", "mw0", "--multiplier", "30",
        Paths.capture("miners/btc_sha256d_cpuminer_eth.pcap"),
      ]) == 0)

    // Now the real syslog receiver comes up: the queued alerts drain into it.
    let conf = dir + "/rsyslog.conf"
    try """
    module(load="imuxsock" SysSock.Use="off")
    input(type="imuxsock" Socket="\(sock)" CreatePath="on")
    global(workDirectory="\(dir)")
    template(name="raw" type="string" string="%rawmsg%\\n")
    *.* action(type="omfile" file="\(dir)/messages" template="raw")
    """.write(toFile: conf, atomically: true, encoding: .utf8)
    let rsyslog = Process()
    rsyslog.executableURL = URL(fileURLWithPath: "/usr/sbin/rsyslogd")
    rsyslog.arguments = ["-n", "-f", conf, "-i", dir + "/rsyslog.pid"]
    rsyslog.standardOutput = FileHandle.nullDevice  // not the test's pipes: it must not hold them
    rsyslog.standardError = FileHandle.nullDevice
    try rsyslog.run()
    defer {
      // SIGKILL: a test runner may have blocked SIGTERM, and children inherit the mask.
      kill(rsyslog.processIdentifier, SIGKILL)
      rsyslog.waitUntilExit()
    }
    func messages() -> [String] {
      ((try? String(contentsOfFile: dir + "/messages", encoding: .utf8)) ?? "").split(separator: "\n").map(
        String.init)
    }
    #expect(
      Self.wait(20) { messages().contains { $0.contains(" summary [") && $0.contains("mining_hosts=\"1\"") } }
    )
    let early = messages()
    // The running daemon's /metrics (the namespace's own loopback), read as Prometheus would:
    // the Grafana dashboard's every expression names metrics and labels found there.
    let exposition = try Self.scrape(ns, port: 9531)
    #expect(exposition.contains(#"minewatch_mining_hosts{sensor="campus-gw1"} 1"#), "\(exposition)")
    #expect(exposition.contains(#"minewatch_capture_packets_received{sensor="campus-gw1"}"#))
    // One capture thread: the per-worker panel is checked against the fanout test's daemon.
    #expect(try DashboardCheck.problems(exposition: exposition, fanout: false) == [])
    let start = try #require(early.first { $0.contains(" session_start [minewatch@32473 ") })
    #expect(start.hasPrefix("<132>1 "))  // local0.warning, RFC 5424
    for field in [
      "host=\"10.31.7.23\"", "pool_ip=\"203.0.113.50\"", "coin=\"BTC\"", "login=\"mwlab.rig01\"",
      "finding=\"stratum\"",
    ] {
      #expect(start.contains(field), "\(field)")
    }
    // Readable as key=value too, the sensor's name first.
    #expect(start.contains(" event=session_start sensor=campus-gw1 host=10.31.7.23 "))

    // SIGHUP with a broken signature file keeps the old set; a good one is taken.
    let pools = sigs + "/pools.txt"
    let good = try String(contentsOfFile: pools, encoding: .utf8)
    try (good + "\nnot..a..domain pool XMR Broken\n").write(toFile: pools, atomically: true, encoding: .utf8)
    kill(daemon.processIdentifier, SIGHUP)
    usleep(1_500_000)
    try good.write(toFile: pools, atomically: true, encoding: .utf8)
    kill(daemon.processIdentifier, SIGHUP)
    usleep(1_500_000)
    // `signatures update` as an administrator runs it: a new set with one more pool name goes in
    // (the plain directory the daemon reads is adopted as the set to roll back to) and the
    // daemon, told by SIGHUP, takes it.
    let newer = dir + "/newer-set"
    try FileManager.default.copyItem(atPath: sigs, toPath: newer)
    try (good + "\npool.update-live.example pool XMR UpdateTest\n").write(
      toFile: newer + "/pools.txt", atomically: true, encoding: .utf8)
    let update = Process()
    update.executableURL = URL(fileURLWithPath: Self.binary)
    update.arguments = [
      "signatures", "update", newer, "--into", sigs, "--pid", "\(daemon.processIdentifier)",
    ]
    let updateOut = Pipe()
    update.standardOutput = updateOut
    update.standardError = updateOut
    try update.run()
    update.waitUntilExit()
    let updateText = String(decoding: updateOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(update.terminationStatus == 0, "\(updateText)")
    #expect(
      updateText.contains("told process \(daemon.processIdentifier) to reload (SIGHUP)"), "\(updateText)")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: sigs).hasPrefix("signatures.sets/"))
    usleep(1_500_000)
    // SIGUSR1: the current per-host table.
    kill(daemon.processIdentifier, SIGUSR1)
    #expect(
      Self.wait(5) {
        messages().contains { $0.contains(" host_table [") && $0.contains("host=\"10.31.7.23\"") }
      })

    // SIGTERM: sessions end, the final summary is written, the daemon exits cleanly.
    daemon.terminate()
    daemon.waitUntilExit()
    #expect(daemon.terminationStatus == 0)
    let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(log.contains("reload refused, the old signatures stay"))
    #expect(log.contains("pools.txt:"))
    #expect(log.contains("signatures reloaded"))
    // Two reloads taken (the mended set, then the updated one with its extra name).
    let reloads = log.split(separator: "\n").filter { $0.contains("signatures reloaded") }
    #expect(reloads.count == 2, "\(log)")
    func names(_ line: Substring?) -> Int? {
      line.flatMap { l in l.range(of: "names=").map { Int(l[$0.upperBound...].prefix { $0.isNumber }) } }
        ?? nil
    }
    if let a = names(reloads.first), let b = names(reloads.last) {
      #expect(b == a + 1, "\(reloads)")
    } else {
      Issue.record("no name counts in \(reloads)")
    }
    #expect(Self.wait(5) { messages().contains { $0.contains("final=\"true\"") } })
    let all = messages()
    let end = try #require(all.first { $0.contains(" session_end [") })
    #expect(end.contains("shares_submitted=\"94\"") && end.contains("shares_accepted=\"94\""))
    let final = try #require(all.last { $0.contains(" summary [") })
    #expect(
      final.contains("final=\"true\"") && final.contains("mining_hosts=\"1\"")
        && final.contains("pools=\"1\""))
    #expect(final.contains("capture_dropped=\"0\""))
    #expect(Self.wait(3) { notify.received.contains("STOPPING=1") })
    let notes = notify.received
    #expect(notes.contains("WATCHDOG=1") && notes.contains { $0.hasPrefix("STATUS=1 mining hosts") })
    // The JSON log holds the same alerts, one object per line.
    let json = try String(contentsOfFile: dir + "/alerts.jsonl", encoding: .utf8).split(separator: "\n")
    #expect(json.count == all.count)
  }
}
