import Foundation
import MinewatchKit
import Testing

@testable import MinewatchDaemon

@Suite struct ConfigAndSyslogTests {
  @Test func sampleConfigLoads() throws {
    let c = try DaemonConfig.load(path: Paths.repo.appendingPathComponent("systemd/minewatch.conf").path)
    #expect(c.interface == "eth1")
    #expect(c.syslog == .unix(path: "/dev/log"))
    #expect(c.summaryIntervalSeconds == 300)
    #expect(c.user == nil)
    #expect(c.jsonLog == "/var/log/minewatch/alerts.jsonl" && c.metricsListen == "127.0.0.1:9530")
    // The site section spells out the defaults, and turns evidence on where the unit allows writes.
    #expect(c.site.kind == KindRules() && c.site.factors == EnergyFactors())
    #expect(c.site.evidence.directory == "/var/lib/minewatch/evidence" && c.site.assets == nil)
    var defaults = EvidenceSettings(directory: c.site.evidence.directory)
    defaults.seconds = 600
    #expect(c.site.evidence == defaults)
    // The example asset map loads.
    let map = try AssetMap(csv: Paths.repo.appendingPathComponent("systemd/assets.example.csv"))
    #expect(map.lookup(IPAddress("10.10.7.9")!)?.unit == "Physics GPU lab")
    #expect(map.lookup(IPAddress("2001:db8:10::5")!)?.kind == "labs")
  }

  @Test func badLinesNameFileAndLine() throws {
    let path = Paths.scratch("bad.conf")
    for (text, message) in [
      ("interface = eth0\nsummary_interval = soon\n", ":2: summary_interval: 'soon' is not a duration"),
      ("# fine\n\nsnaplen = 99999999\n", ":3: snaplen: '99999999' is not a whole number in 256...262144"),
      ("colour = blue\n", ":1: unknown key 'colour'"),
      ("syslog = udp://pool.example:514\n", ":1: syslog: 'udp://pool.example:514' needs a numeric address"),
      (
        "internal_networks = 10.0.0.0/8, 300.1.2.3/8\n",
        ":1: internal_networks: '300.1.2.3/8' is not a CIDR network"
      ),
      ("just words\n", ":1: expected 'key = value'"),
    ] {
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
      #expect(throws: Error.self) { try DaemonConfig.load(path: path) }
      do {
        _ = try DaemonConfig.load(path: path)
      } catch {
        #expect("\(error)".hasPrefix(path + message), "\(error)")
      }
    }
    try Data([0xff, 0x00, 0x41]).write(to: URL(fileURLWithPath: path))
    #expect(throws: Error.self) { try DaemonConfig.load(path: path) }
  }

  @Test func syslogTargets() throws {
    #expect(try DaemonConfig.syslogTarget("udp://192.0.2.5:514") == .udp(host: "192.0.2.5", port: 514))
    #expect(
      try DaemonConfig.syslogTarget("tcp://[2001:db8::5]:6514") == .tcp(host: "2001:db8::5", port: 6514))
    #expect(try DaemonConfig.syslogTarget("unix:/run/x.sock") == .unix(path: "/run/x.sock"))
    #expect(try DaemonConfig.syslogTarget("local") == .unix(path: "/dev/log"))
  }

  func alert() -> Alert {
    Alert(
      kind: .sessionStart, severity: .warning, timeNs: 1_763_900_000_123_000_000,
      body: TestSessionBody(
        host: "10.31.7.23", poolIP: "203.0.113.50", login: "a \"quoted\" ]name", coin: nil),
      keys: ["host", "pool_ip", "login", "coin"])
  }

  @Test func rfc5424WithStructuredData() {
    let m = SyslogMessage.format(
      alert(), format: .rfc5424, facility: 16, ident: "minewatch", hostname: "gw1", pid: 42)
    #expect(
      m
        == #"<132>1 2025-11-23T12:13:20.123Z gw1 minewatch 42 session_start [minewatch@32473 event="session_start" host="10.31.7.23" pool_ip="203.0.113.50" login="a \"quoted\" \]name"] event=session_start host=10.31.7.23 pool_ip=203.0.113.50 login="a \"quoted\" ]name""#
    )
  }

  @Test func rfc3164ForOldReceivers() {
    let m = SyslogMessage.format(
      alert(), format: .rfc3164, facility: 3, ident: "minewatch", hostname: "gw1", pid: 42)
    #expect(
      m
        == #"<28>Nov 23 12:13:20 gw1 minewatch[42]: event=session_start host=10.31.7.23 pool_ip=203.0.113.50 login="a \"quoted\" ]name""#
    )
  }

  @Test func alertsQueueWhileSyslogIsAwayAndDrainInOrder() throws {
    let path = Paths.scratch("syslog.sock")
    var c = try config([("queue_limit", "50")])
    c.syslog = .unix(path: path)
    c.sensor = "gw-north"
    let d = try AlertDispatcher(config: c)
    for i in 0..<60 {
      d.send(
        Alert(
          kind: .summary, severity: .notice, timeNs: UInt64(i) * 1_000_000_000, body: Numbered(n: i),
          keys: ["n"]))
    }
    #expect(d.queued == 50 && d.dropped == 10 && d.sent == 0)
    let receiver = try DatagramReceiver(path: path)
    var got: [String] = []
    for _ in 0..<100 where d.queued > 0 {  // the socket holds a few at a time, like a busy syslogd
      d.drain()
      got += receiver.receiveAll()
    }
    got += receiver.receiveAll()
    #expect(got.count == 50 && d.sent == 50)
    #expect(got.first?.hasSuffix("event=summary sensor=gw-north n=10") == true)  // the ten oldest made room
    #expect(got.last?.hasSuffix("event=summary sensor=gw-north n=59") == true)
    d.send(Alert(kind: .summary, severity: .notice, timeNs: 0, body: Numbered(n: 60), keys: ["n"]))
    #expect(receiver.receiveAll().count == 1 && d.queued == 0)
  }

  @Test func notifyProtocol() throws {
    let path = Paths.scratch("notify.sock")
    let listener = try DatagramReceiver(path: path)
    let n = try #require(Notifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"]))
    #expect(n.watchdogInterval == 1.0)
    n.send("READY=1\nSTATUS=capturing")
    n.watchdog()
    n.watchdog()  // within the interval: no second ping
    #expect(listener.receiveAll() == ["READY=1\nSTATUS=capturing", "WATCHDOG=1"])
    #expect(Notifier(environment: [:]) == nil)
  }

  @Test func metricsEndpointServesPrometheusText() throws {
    let metrics = DaemonMetrics()
    metrics.summary(hosts: 3, pools: 2, rates: ["sha256d": 7.5e6], active: 4)
    let port = UInt16(20000 + getpid() % 20000)
    let server = try MetricsServer(listen: "127.0.0.1:\(port)", metrics: metrics)
    server.start()
    defer { server.shutdown() }
    func get(_ path: String) -> String {
      let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      defer { close(s) }
      _ = withSockaddr(host: "127.0.0.1", port: port) { sa, len, _ in connect(s, sa, len) }
      let req = Array("GET \(path) HTTP/1.0\r\n\r\n".utf8)
      _ = req.withUnsafeBytes { send(s, $0.baseAddress, $0.count, 0) }
      var out: [UInt8] = []
      var buf = [UInt8](repeating: 0, count: 4096)
      while true {
        let n = recv(s, &buf, buf.count, 0)
        if n <= 0 { break }
        out += buf[0..<n]
      }
      return String(decoding: out, as: UTF8.self)
    }
    let body = get("/metrics")
    #expect(body.hasPrefix("HTTP/1.0 200 OK"))
    #expect(body.contains("minewatch_mining_hosts 3"))
    #expect(body.contains(#"minewatch_hashrate_hps{algorithm="sha256d"} 7500000"#))
    #expect(get("/other").hasPrefix("HTTP/1.0 404"))

    // Twenty clients that connect and say nothing (each may wait 2 s for its request line):
    // a scrape behind them is answered at once, not after 20 × 2 s as a server that serves one
    // connection at a time would. The bound (5 s) is a liveness limit, not a speed figure.
    var silent: [Int32] = []
    for _ in 0..<20 {
      let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      _ = withSockaddr(host: "127.0.0.1", port: port) { sa, len, _ in connect(s, sa, len) }
      silent.append(s)
    }
    defer { for s in silent { close(s) } }
    let started = Date()
    let behind = get("/metrics")
    #expect(behind.hasPrefix("HTTP/1.0 200 OK") && behind.contains("minewatch_mining_hosts 3"))
    #expect(Date().timeIntervalSince(started) < 5)
  }
}

@Suite struct RemoteSyslogTests {
  func alert(_ n: Int) -> Alert {
    Alert(
      kind: .summary, severity: .notice, timeNs: 1_763_900_000_000_000_000, body: Numbered(n: n), keys: ["n"])
  }

  @Test func udpCollectorGetsOneDatagramPerAlert() throws {
    let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(s) }
    let port = UInt16(30000 + getpid() % 20000)
    #expect(withSockaddr(host: "127.0.0.1", port: port) { sa, len, _ in bind(s, sa, len) } == 0)
    var tv = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var c = try config([
      ("syslog", "udp://127.0.0.1:\(port)"), ("syslog_format", "rfc3164"), ("syslog_facility", "daemon"),
      ("sensor", "gw-north"),
    ])
    c.syslogIdent = "mw"
    let d = try AlertDispatcher(config: c)
    d.send(alert(1))
    var buf = [UInt8](repeating: 0, count: 2048)
    let n = recv(s, &buf, buf.count, 0)
    let text = String(decoding: buf[0..<max(n, 0)], as: UTF8.self)
    #expect(text.hasPrefix("<29>Nov 23 12:13:20 "))  // daemon.notice
    #expect(text.hasSuffix(" mw[\(getpid())]: event=summary sensor=gw-north n=1"))
  }

  @Test func tcpCollectorGetsOctetCountedFrames() throws {
    let l = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(l) }
    var one: Int32 = 1
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    let port = UInt16(30000 + (getpid() + 7) % 20000)
    #expect(withSockaddr(host: "127.0.0.1", port: port) { sa, len, _ in bind(l, sa, len) } == 0)
    #expect(listen(l, 1) == 0)
    let d = try AlertDispatcher(config: config([("syslog", "tcp://127.0.0.1:\(port)")]))
    d.send(alert(1))
    d.send(alert(2))
    let c = accept(l, nil, nil)
    defer { close(c) }
    var tv = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var got: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while got.count < 20 || !String(decoding: got, as: UTF8.self).contains("n=2") {
      let n = recv(c, &buf, buf.count, 0)
      if n <= 0 { break }
      got += buf[0..<n]
    }
    // RFC 6587 octet counting: "LEN SP MSG", back to back.
    var text = Substring(String(decoding: got, as: UTF8.self))
    var frames: [String] = []
    while let sp = text.firstIndex(of: " "), let len = Int(text[..<sp]) {
      let body = text[text.index(after: sp)...]
      let bytes = Array(body.utf8.prefix(len))
      frames.append(String(decoding: bytes, as: UTF8.self))
      text = Substring(String(decoding: Array(body.utf8.dropFirst(len)), as: UTF8.self))
    }
    #expect(frames.count == 2)
    #expect(frames.allSatisfy { $0.hasPrefix("<133>1 ") })
    #expect(frames.last?.hasSuffix("event=summary sensor=\(DaemonConfig().sensorName) n=2") == true)
  }

  @Test func shippedUnitIsHardened() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
      Issue.record("systemd-analyze is not installed")
      return
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
    // --threshold=20 fails the call when the exposure is above 2.0.
    p.arguments = [
      "security", "--offline=true", "--threshold=20",
      Paths.repo.appendingPathComponent("systemd/minewatch.service").path,
    ]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
  }
}

@Suite struct HostileConfigFileTests {
  func loadError(_ path: String) -> String {
    do {
      _ = try DaemonConfig.load(path: path)
      return "loaded"
    } catch {
      return "\(error)"
    }
  }

  @Test func overLongUnreadableAndDirectoryConfigs() throws {
    let big = Paths.scratch("big.conf")
    try Data(repeating: 0x23, count: 2 << 20).write(to: URL(fileURLWithPath: big))  // 2 MiB of '#'
    #expect(loadError(big) == "\(big):1: not a text file of at most 1 MiB")
    let dir = Paths.scratch("conf.d")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    #expect(loadError(dir).hasPrefix("\(dir): cannot read"))
    #expect(loadError(dir + "/missing.conf").hasPrefix("\(dir)/missing.conf: cannot read"))
    let longLine = Paths.scratch("long.conf")
    try Data(
      ("interface = eth0\nfilter = " + String(repeating: "x", count: 500_000) + "\nsnaplen = nope\n").utf8
    )
    .write(to: URL(fileURLWithPath: longLine))
    #expect(loadError(longLine) == "\(longLine):3: snaplen: 'nope' is not a whole number in 256...262144")
  }
}

/// Alert bodies made up for the transport tests: a numbered alert, and a session-like one with a
/// value syslog must escape and a null it must leave out.
struct Numbered: AlertBody { var n: Int }

struct TestSessionBody: AlertBody {
  var host: String
  var poolIP: String
  var login: String
  @Nullable var coin: String?
  enum CodingKeys: String, CodingKey {
    case host, login, coin
    case poolIP = "pool_ip"
  }
}

/// A sensor runs for months: its JSON log survives rotation, and its metrics forget what is no
/// longer true.
@Suite struct LongRunningTests {
  /// logrotate renames the file and sends SIGHUP: the daemon then writes a new file of that
  /// name, and nothing is lost from either.
  @Test func theJSONLogReopensAfterRotation() throws {
    let path = Paths.scratch("alerts.jsonl")
    var c = DaemonConfig()
    c.syslog = .none
    c.jsonLog = path
    let alerts = try AlertDispatcher(config: c)
    alerts.send(Alert(kind: .summary, severity: .notice, timeNs: 1, body: Numbered(n: 1), keys: ["n"]))
    try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
    alerts.send(Alert(kind: .summary, severity: .notice, timeNs: 2, body: Numbered(n: 2), keys: ["n"]))
    try alerts.reopenJSONLog()
    alerts.send(Alert(kind: .summary, severity: .notice, timeNs: 3, body: Numbered(n: 3), keys: ["n"]))
    let rotated = try String(contentsOfFile: path + ".1", encoding: .utf8).split(separator: "\n")
    let fresh = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    #expect(rotated.count == 2 && rotated[1].contains(#""n":2"#))
    #expect(fresh.count == 1 && fresh[0].contains(#""n":3"#))
    #expect(alerts.jsonWriteFailures == 0)
  }

  /// Every series names the sensor, so many sensors add up in one Prometheus; every alert too.
  @Test func metricsAndAlertsNameTheSensor() throws {
    let metrics = DaemonMetrics(sensor: "gw-south")
    metrics.summary(hosts: 3, pools: 1, rates: ["randomx": 100], active: 3)
    let text = String(decoding: metrics.exposition(), as: UTF8.self)
    #expect(text.contains(#"minewatch_mining_hosts{sensor="gw-south"} 3"#))
    #expect(text.contains(#"minewatch_hashrate_hps{sensor="gw-south",algorithm="randomx"} 100"#))
    var c = DaemonConfig()
    c.syslog = .none
    try c.set("sensor", "gw-south")
    let alerts = try AlertDispatcher(config: c)
    alerts.keepDelivered = true
    alerts.send(Alert(kind: .summary, severity: .notice, timeNs: 1, body: Numbered(n: 1), keys: ["n"]))
    #expect(alerts.delivered.first?.json["sensor"] as? String == "gw-south")
    #expect(throws: MinewatchError.self) { try c.set("sensor", "bad name!") }
  }

  /// An algorithm no longer mined loses its hashrate gauge; the others keep theirs.
  @Test func hashrateGaugesGoWhenTheirAlgorithmStops() {
    let metrics = DaemonMetrics()
    metrics.summary(hosts: 2, pools: 2, rates: ["sha256d": 7e6, "randomx": 266], active: 2)
    var text = String(decoding: metrics.exposition(), as: UTF8.self)
    #expect(text.contains(#"minewatch_hashrate_hps{algorithm="randomx"} 266"#))
    #expect(text.contains(#"algorithm="sha256d""#))
    metrics.summary(hosts: 1, pools: 1, rates: ["sha256d": 6e6], active: 1)
    text = String(decoding: metrics.exposition(), as: UTF8.self)
    #expect(!text.contains(#"algorithm="randomx""#))
    #expect(text.contains(#"minewatch_hashrate_hps{algorithm="sha256d"} 6000000"#))
  }
}
