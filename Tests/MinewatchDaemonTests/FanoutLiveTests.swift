import CaptureForge
import Foundation
import MinewatchCore
import MinewatchKit
import Testing

@testable import MinewatchDaemon

/// `workers = 2` for real: two capture handles in one PACKET_FANOUT group on a veth of the
/// test's own namespace, a campus-like capture replayed as fast as tcpreplay goes. Needs root;
/// sends nothing outside the namespace.
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root for ip netns and live capture"))
struct FanoutLiveTests {
  /// Many short flows, DNS and sixteen miners on sixteen hosts: the kernel's flow hash spreads
  /// them over both workers, so a session split between workers or lost would show.
  static func campus() throws -> String {
    let path = Paths.scratch("fanout-campus.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    var traffic = BenchTraffic()
    traffic.megabytes = 6
    traffic.hosts = 400
    traffic.miners = 16
    traffic.concurrentFlows = 400
    traffic.write(to: w)
    w.close()
    return path
  }

  /// What a scan finds in the file: "host pool:port" -> shares submitted, for miners' sessions.
  static func scanned(_ file: String) throws -> [String: Int] {
    let report = try Scanner(signatures: Signatures(directory: URL(fileURLWithPath: Paths.signatures)))
      .scan(files: [file])
    var out: [String: Int] = [:]
    for h in report.hosts where h.role == .miner {
      for s in h.sessions { out["\(s.clientIP) \(s.poolIP):\(s.poolPort)", default: 0] += s.sharesSubmitted }
    }
    return out
  }

  /// The daemon with `workers` capture threads on one end of a veth pair in a namespace of the
  /// test's own, the file replayed onto the other end as fast as tcpreplay goes; its alerts.
  /// `extra` goes on the daemon's command line; `whileRunning` is called with the namespace's
  /// name once the replay is done, before the daemon is stopped.
  static func replayLive(
    _ file: String, workers: Int, extra: [String] = [], whileRunning: ((String) throws -> Void)? = nil
  ) throws -> [[String: Any]] {
    let ns = "mwfan\(getpid())"
    let dir = Paths.scratch("fanout")
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { _ = try? LiveDaemonTests.sh(["ip", "netns", "del", ns]) }
    try LiveDaemonTests.vethNamespace(ns, "fw0", "fw1")
    let notify = try DatagramReceiver(path: dir + "/notify.sock")
    notify.startCollecting()
    defer { notify.stopCollecting() }
    let log = dir + "/alerts.jsonl"
    let daemon = try Self.startDaemon(
      ns, "fw1", workers: workers, log: log, notify: notify.path, extra: extra)
    defer {
      if daemon.isRunning {
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
      }
    }
    #expect(LiveDaemonTests.wait(10) { notify.received.contains { $0.hasPrefix("READY=1") } })
    #expect(
      try LiveDaemonTests.sh([
        "ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", "fw0", "--topspeed", "--preload-pcap", file,
      ]) == 0)
    usleep(1_500_000)
    try whileRunning?(ns)
    kill(daemon.processIdentifier, SIGTERM)
    daemon.waitUntilExit()
    #expect(daemon.terminationStatus == 0)
    return try Self.alerts(log)
  }

  /// The daemon capturing on `iface` of namespace `ns` with `workers` fanout workers, its alerts
  /// to the JSON log `log`, no syslog, one summary at the end.
  static func startDaemon(
    _ ns: String, _ iface: String, workers: Int, log: String, notify: String? = nil, extra: [String] = []
  ) throws -> Process {
    let daemon = Process()
    daemon.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    daemon.arguments =
      [
        "netns", "exec", ns, LiveDaemonTests.binary, "run", "-i", iface, "--workers", "\(workers)",
        "--syslog",
        "none", "--summary-interval", "1h", "--signatures", Paths.signatures, "--json-log", log, "--sensor",
        "fanout",
      ] + extra
    daemon.environment = ["PATH": "/usr/bin:/bin"].merging(notify.map { ["NOTIFY_SOCKET": $0] } ?? [:]) {
      a, _ in a
    }
    daemon.standardOutput = FileHandle.nullDevice
    daemon.standardError = FileHandle.nullDevice
    try daemon.run()
    return daemon
  }

  /// A JSON log's alerts.
  static func alerts(_ log: String) throws -> [[String: Any]] {
    try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }

  /// The ended sessions of a live run, as `scanned` gives them, and the announced ones.
  static func sessions(_ alerts: [[String: Any]]) -> (ended: [String: Int], started: [String]) {
    var found: [String: Int] = [:]
    var starts: [String] = []
    for a in alerts {
      guard let event = a["event"] as? String, let host = a["host"] as? String,
        let ip = a["pool_ip"] as? String, let port = a["pool_port"] as? Int
      else { continue }
      let key = "\(host) \(ip):\(port)"
      if event == "session_start" { starts.append(key) }
      if event == "session_end" { found[key, default: 0] += a["shares_submitted"] as? Int ?? 0 }
    }
    return (found, starts)
  }

  @Test func twoWorkersFindWhatTheScanFinds() throws {
    let file = try Self.campus()
    let expected = try Self.scanned(file)
    #expect(expected.count == 16)
    // Each worker's kernel buffer (64 MiB) holds the whole 6 MB capture: not a packet may drop.
    // A summary ten seconds in sets the metrics, scraped from inside the namespace.
    var exposition = ""
    let alerts = try Self.replayLive(
      file, workers: 2, extra: ["--metrics-listen", "127.0.0.1:9533", "--summary-interval", "10"]
    ) { ns in
      usleep(10_000_000)
      exposition = try LiveDaemonTests.scrape(ns, port: 9533)
    }
    // Each worker's kernel counters, by `worker`, beside the totals.
    func gauge(_ name: String, worker: Int) -> Double? {
      exposition.split(separator: "\n").first {
        $0.hasPrefix("minewatch_\(name){") && $0.contains("worker=\"\(worker)\"")
      }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }
    for w in 0..<2 {
      #expect((gauge("capture_worker_packets_received", worker: w) ?? 0) > 1000, "\(exposition)")
      #expect(gauge("capture_worker_packets_dropped", worker: w) == 0)
    }
    // The shipped dashboard's per-worker panel resolves against this daemon (the rest is checked
    // against a replay in DashboardTests; hashrate gauges exist once a summary has a rate).
    let problems = try DashboardCheck.problems(exposition: exposition).filter {
      $0.contains(DashboardCheck.fanoutOnly)
    }
    #expect(problems == [], "\(problems)")
    #expect(try DashboardCheck.expressions().contains { $0.contains(DashboardCheck.fanoutOnly) })
    let (found, starts) = Self.sessions(alerts)
    // The same sessions with the same shares: none split between the workers, none lost.
    #expect(found == expected)
    #expect(starts.count == expected.count)

    let summary = try #require(alerts.last { $0["event"] as? String == "summary" })
    let workers = try #require(summary["capture_workers"] as? [[String: Any]])
    #expect(workers.count == 2)
    let received = workers.map { $0["received"] as? Int ?? 0 }
    // Both workers took a share of the flows, and together every packet the engine counted.
    #expect(received.allSatisfy { $0 > 1000 }, "\(received)")
    #expect(received.reduce(0, +) == summary["capture_received"] as? Int)
    #expect(workers.allSatisfy { $0["dropped"] as? Int == 0 })
    #expect(summary["capture_dropped"] as? Int == 0)
    // Every packet of the file reached the engine once (the link's own few IPv6 frames come on
    // top; one that arrives as the daemon stops is counted by the kernel, not the engine).
    // (`packets` is each summary's interval; the kernel's counters are totals.)
    let packets = alerts.filter { $0["event"] as? String == "summary" }.reduce(0) {
      $0 + ($1["packets"] as? Int ?? 0)
    }
    #expect(packets <= received.reduce(0, +))
    #expect(packets >= Self.packetCount(file) && packets <= Self.packetCount(file) + 32)
  }

  /// What spans flows must cross workers in order: sixteen hosts each look a pool's name up and
  /// at once open an encrypted connection to the address the answer gave, with no server name
  /// in it — only the DNS answer, which the kernel's hash sends to one worker or the other,
  /// makes that connection a pool's. Replayed back to back, the answer and the connection's
  /// first packet are microseconds apart; every connection must still be found.
  @Test func dnsAnswersReachConnectionsOnTheOtherWorker() throws {
    let path = Paths.scratch("fanout-dns.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    w.sortByTime = true
    let t0: UInt64 = 1_764_000_000 * 1_000_000_000
    for i in 0..<16 {
      let host = "10.60.\(i / 8).\(i % 8 + 10)"
      let pool: [UInt8] = [203, 0, 113, UInt8(10 + i)]
      let at = t0 + UInt64(i) * 50_000_000
      w.write(
        frame: PacketBuilder.udp(
          link: w.link, from: Peer("10.60.255.53", 53), to: Peer(host, UInt16(53_000 + i)),
          payload: DNSMessage.answer(id: UInt16(i), name: "pool.supportxmr.com", addresses: [pool], ttl: 300)),
        timeNs: at)
      let c = Conversation(
        writer: w, client: Peer(host, UInt16(41_000 + i)), server: Peer("203.0.113.\(10 + i)", 443),
        startNs: at + 20_000)
      for _ in 0..<6 {
        c.send(fromClient: true, [UInt8](repeating: 0x17, count: 120))
        c.send(fromClient: false, [UInt8](repeating: 0x17, count: 300))
        c.advance(seconds: 1)
      }
      c.close()
    }
    // And frames that do not decode, which the workers count: the engine's counts must have
    // every one of them (a UDP header claiming a length shorter than itself).
    for i in 0..<12 {
      var frame = PacketBuilder.udp(
        link: w.link, from: Peer("10.61.0.\(i + 1)", 40_000), to: Peer("198.51.100.9", 9999),
        payload: [1, 2, 3, 4])
      frame[frame.count - 8] = 0  // the UDP length: 3
      frame[frame.count - 7] = 3
      w.write(frame: frame, timeNs: t0 + UInt64(i) * 1_000_000)
    }
    w.releaseHeld()
    w.close()
    let report = try Scanner(signatures: Signatures(directory: URL(fileURLWithPath: Paths.signatures)))
      .scan(files: [path])
    #expect(report.anomalies["bad_udp_header"] == 12, "\(report.anomalies)")
    let expected = Set(report.hosts.flatMap(\.sessions).map { "\($0.clientIP) \($0.poolIP):\($0.poolPort)" })
    #expect(expected.count == 16, "\(expected.sorted())")
    let alerts = try Self.replayLive(path, workers: 2)
    let started = Set(Self.sessions(alerts).started)
    #expect(started == expected)
    let summary = try #require(alerts.last { $0["event"] as? String == "summary" })
    let workers = try #require(summary["capture_workers"] as? [[String: Any]])
    #expect(workers.allSatisfy { ($0["received"] as? Int ?? 0) > 0 })
    #expect((summary["anomalies"] as? [String: Any])?["bad_udp_header"] as? Int == 12, "\(summary)")
  }

  /// A handle receives every packet of the interface from its activation until it joins the
  /// fanout group, while the members already in it receive them too: without care, the packets
  /// of that moment reach the engine twice. The daemon starts while a miner's stream is already
  /// flowing (45,000 submits a second, their TCP sequence numbers rising): a segment seen twice
  /// would count as a retransmission.
  @Test func startingWhileTrafficFlowsTakesNoPacketTwice() throws {
    let path = Paths.scratch("fanout-startup.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    let c = Conversation(
      writer: w, client: Peer("10.62.0.5", 41_000), server: Peer("203.0.113.77", 3333),
      startNs: 1_764_000_000 * 1_000_000_000)
    c.send(fromClient: true, line: #"{"id":1,"method":"mining.subscribe","params":["cpuminer/2.5.1"]}"#)
    c.send(
      fromClient: false,
      line: #"{"id":1,"result":[[["mining.notify","ae6812eb4cd7735a"]],"08000002",4],"error":null}"#)
    c.send(fromClient: true, line: #"{"id":2,"method":"mining.authorize","params":["lab.rig9","x"]}"#)
    for i in 0..<135_000 {
      c.advance(seconds: 0.000_022)
      c.send(
        fromClient: true,
        line:
          #"{"id":\#(i + 3),"method":"mining.submit","params":["lab.rig9","1","00000000","5f5e1000","\#(String(i, radix: 16))"]}"#
      )
    }
    w.close()
    let ns = "mwstart\(getpid())"
    let dir = Paths.scratch("fanout-startup")
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { _ = try? LiveDaemonTests.sh(["ip", "netns", "del", ns]) }
    try LiveDaemonTests.vethNamespace(ns, "sw0", "sw1")
    // The stream first, at its own pace (3 s); the daemon starts into it.
    let replay = Process()
    replay.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    replay.arguments = ["netns", "exec", ns, "tcpreplay", "-q", "-i", "sw0", "--pps", "45000", path]
    replay.standardOutput = FileHandle.nullDevice
    replay.standardError = FileHandle.nullDevice
    try replay.run()
    usleep(500_000)
    let log = dir + "/alerts.jsonl"
    let daemon = try Self.startDaemon(ns, "sw1", workers: 2, log: log)
    defer {
      if daemon.isRunning {
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
      }
    }
    replay.waitUntilExit()
    usleep(1_500_000)
    kill(daemon.processIdentifier, SIGTERM)
    daemon.waitUntilExit()
    #expect(daemon.terminationStatus == 0)
    let alerts = try Self.alerts(log)
    let summary = try #require(alerts.last { $0["event"] as? String == "summary" })
    // The daemon joined the stream early: thousands of its segments went through the engine.
    #expect((summary["packets"] as? Int ?? 0) > 10_000, "\(summary)")
    let ended = alerts.filter { $0["event"] as? String == "session_end" }
    #expect(ended.reduce(0) { $0 + ($1["shares_submitted"] as? Int ?? 0) } > 10_000, "\(ended)")
    let anomalies = summary["anomalies"] as? [String: Any] ?? [:]
    #expect(anomalies["tcp_retransmission"] == nil, "\(anomalies)")
    #expect((summary["capture_dropped"] as? Int ?? 0) == 0)
  }

  /// Records in a classic pcap file (little-endian, as PcapWriter writes it).
  static func packetCount(_ path: String) -> Int {
    guard let data = FileManager.default.contents(atPath: path) else { return 0 }
    var offset = 24
    var n = 0
    while offset + 16 <= data.count {
      let incl = data[(offset + 8)..<(offset + 12)].reversed().reduce(0) { $0 << 8 | Int($1) }
      offset += 16 + incl
      n += 1
    }
    return n
  }
}

/// The worker count's bounds, as the README states them, without a capture.
@Suite struct FanoutConfigTests {
  @Test func workersFromOneToSixtyFour() throws {
    #expect(try config([("workers", "1")]).workers == 1)
    #expect(try config([("workers", "64")]).workers == 64)
    for bad in ["0", "65", "-2", "two"] {
      #expect(throws: MinewatchError.self) { try config([("workers", bad)]) }
    }
  }

  /// A group is refused before any handle opens when the count is out of bounds; an interface
  /// that is not there is one line naming it.
  @Test func groupRefusesBadCountsAndMissingInterfaces() {
    var err = [CChar](repeating: 0, count: 256)
    func message() -> String {
      String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    #expect(mw_live_open("lo", 65, 4096, 1 << 20, 0, 0, nil, &err, err.count) == nil)
    #expect(message() == "workers must be 1 to 64, not 65")
    #expect(mw_live_open("mw-no-such-if", 2, 4096, 1 << 20, 0, 0, nil, &err, err.count) == nil)
    #expect(message().hasPrefix("mw-no-such-if:"), "\(message())")
  }
}
