import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// Active verification against real local endpoints on loopback: pools of each family (plain
/// and behind TLS with a self-signed certificate) and services that are not pools.
@Suite(.serialized) struct VerifyTests {
  static let loopback = IPAddress("127.0.0.1")!

  func verifier(timeout: Double = 3) -> PoolVerifier {
    var s = VerifySettings()
    s.timeoutSeconds = timeout
    return PoolVerifier(settings: s)
  }

  @Test func poolsAndNonPoolsGetTheRightVerdicts() throws {
    let pools = try LocalPools(repo: Paths.repo)
    let v = verifier()
    func check(_ name: String) -> PoolVerdict {
      v.verify(Self.loopback, port: pools.ports[name]!)
    }
    let cnTLS = check("cryptonote_tls")
    #expect(cnTLS.status == .pool && cnTLS.family == .cryptonote && cnTLS.tls == true)
    #expect(cnTLS.algorithm == "rx/0" && cnTLS.difficulty.map { abs($0 - 10_000) < 1 } == true)
    #expect(cnTLS.certificate?.contains("pool.example.test") == true && cnTLS.reason.contains("job"))

    let cnPlain = check("cryptonote_plain_validating")
    #expect(cnPlain.status == .pool && cnPlain.family == .cryptonote && cnPlain.tls == false)
    #expect(cnPlain.reason.contains("Invalid payment address"))

    for name in ["stratum_plain", "stratum_tls"] {
      let s = check(name)
      #expect(s.status == .pool && s.family == .stratum && s.tls == (name == "stratum_tls"), "\(name)")
      #expect(s.difficulty == 65536, "\(name)")
    }
    let eth = check("eth_proxy_plain")
    #expect(eth.status == .pool && eth.family == .ethProxy && eth.algorithm == "ethash")
    #expect(eth.hashesPerShare.map { abs($0 / 4.0e9 - 1) < 0.01 } == true)  // boundary 2^256/4e9

    let node = check("json_rpc_node")
    #expect(node.status == .notPool && node.reason.contains("JSON-RPC service"))
    // Every family was tried before a JSON-RPC service was called no pool.
    #expect(Set(node.probes.map(\.family)) == Set(PoolFamily.allCases))
    let echo = check("echo")
    #expect(echo.status == .notPool && echo.reason.contains("echo"))
    let https = check("https")
    #expect(https.status == .notPool && https.probes.count == 1 && https.probes[0].tls)
    let closed = check("closed")
    #expect(closed.status == .unreachable && closed.reason == "connection refused")
    #expect(closed.probes.count == 1)
    // Verdicts expire: a pool's after a week, a non-pool's after a day, an unreachable one's
    // after an hour.
    #expect(abs(cnTLS.expiresAt.timeIntervalSince(cnTLS.checkedAt) - 7 * 86_400) < 1)
    #expect(abs(echo.expiresAt.timeIntervalSince(echo.checkedAt) - 86_400) < 1)
    #expect(abs(closed.expiresAt.timeIntervalSince(closed.checkedAt) - 3_600) < 1)
  }

  /// A silent endpoint (it accepts and never answers) costs one timeout per probe, no more.
  @Test func aSilentEndpointIsBoundedByItsTimeouts() throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var sa = sockaddr_in()
    sa.sin_family = sa_family_t(AF_INET)
    sa.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &sa) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    listen(fd, 16)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &sa) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    let port = UInt16(bigEndian: sa.sin_port)
    let started = Date()
    let v = verifier(timeout: 0.5).verify(Self.loopback, port: port)
    let took = Date().timeIntervalSince(started)
    #expect(v.status == .notPool && v.reason.contains("no pool answer"))
    // TLS handshake (times out), then three plain logins that get no answer.
    #expect(v.probes.map(\.outcome) == ["failed", "silent", "silent", "silent"])
    #expect(took < 4 * 0.5 + 1.5, "\(took) s")
  }

  /// One attempt per endpoint while its verdict holds, at most `perMinute` endpoints per window,
  /// verdicts kept in the file and read back after a restart, expired ones dropped.
  @Test func rateLimitCacheAndPersistence() throws {
    let pools = try LocalPools(repo: Paths.repo)
    let file = Paths.scratch(UUID().uuidString + "-verdicts.json")
    var settings = VerifySettings()
    settings.timeoutSeconds = 3
    settings.perMinute = 2
    let probes = ProbeLog()
    var v = PoolVerifier(settings: settings)
    v.onProbe = { ip, port, p in probes.add("\(port) \(p.family.rawValue)") }
    let queue = VerifyQueue(verifier: v, store: try VerdictStore(path: file), windowSeconds: 2)
    let names = ["cryptonote_tls", "stratum_plain", "eth_proxy_plain"]
    let started = Date()
    for n in names { #expect(queue.request(Self.loopback, port: pools.ports[n]!, likelyTLS: true)) }
    // Asked again while queued: not queued twice.
    #expect(!queue.request(Self.loopback, port: pools.ports["cryptonote_tls"]!, likelyTLS: true))
    var got: [PoolVerdict] = []
    while got.count < 3, Date().timeIntervalSince(started) < 30 {
      got += queue.take()
      usleep(20_000)
    }
    #expect(got.count == 3 && got.allSatisfy { $0.status == .pool })
    // The third waited for the window to pass: two per 2 s.
    let third = try #require(got.first { $0.port == pools.ports["eth_proxy_plain"] })
    #expect(third.checkedAt.timeIntervalSince(started) >= 1.9)
    // Cached: asking again contacts nothing.
    let before = probes.count
    #expect(!queue.request(Self.loopback, port: pools.ports["stratum_plain"]!, likelyTLS: false))
    usleep(200_000)
    #expect(probes.count == before && queue.take().isEmpty)
    queue.stop()
    // Persisted: a new store (a restart) knows them; a week later they have expired.
    let reloaded = try VerdictStore(path: file)
    #expect(reloaded.all().count == 3)
    #expect(reloaded.verdict(Self.loopback, pools.ports["cryptonote_tls"]!)?.family == .cryptonote)
    let later = try VerdictStore(path: file, now: Date().addingTimeInterval(8 * 86_400))
    #expect(later.all(now: Date().addingTimeInterval(8 * 86_400)).isEmpty)
  }

  /// The queue holds at most `maxPending` endpoints; the store at most `capacity` verdicts,
  /// the one that expires soonest going first.
  @Test func queueAndStoreHoldTheirLimits() throws {
    var settings = VerifySettings()
    settings.timeoutSeconds = 0.5
    settings.perMinute = 1
    let queue = VerifyQueue(
      verifier: PoolVerifier(settings: settings), store: try VerdictStore(path: nil), maxPending: 1,
      windowSeconds: 60)
    defer { queue.stop() }
    let closed = UInt16(1)  // nothing listens on port 1 of loopback
    #expect(queue.request(Self.loopback, port: closed, likelyTLS: false))
    usleep(300_000)  // the worker has taken the first; the rate holds the next one back
    #expect(queue.request(Self.loopback, port: 2, likelyTLS: false))
    #expect(!queue.request(Self.loopback, port: 3, likelyTLS: false))
    #expect(queue.refused == 1 && queue.pendingCount == 1)

    let store = try VerdictStore(path: nil, capacity: 2)
    let now = Date()
    for (port, hours) in [(10, 3.0), (11, 1.0), (12, 2.0)] {
      try store.put(
        PoolVerdict(
          ip: Self.loopback, port: UInt16(port), status: .notPool, reason: "test", checkedAt: now,
          expiresAt: now.addingTimeInterval(hours * 3600), probes: []))
    }
    #expect(store.all().map(\.port).sorted() == [10, 12])
  }

  @Test func aDamagedVerdictFileIsAnErrorNamingIt() throws {
    let file = try scratchFile("verdicts.json", "[{\"ip\": \"not an address\"}]")
    #expect(throws: MinewatchError.self) { _ = try VerdictStore(path: file) }
  }

  /// A verified pool endpoint: the miner found by its rhythm becomes certain, with a hashrate
  /// bound from the difficulty the pool gave the probe; another host's short encrypted flow to
  /// it, which no rhythm could judge, becomes a finding.
  @Test func aVerifiedEndpointTurnsOtherHostsFlowsIntoFindings() throws {
    let pools = try LocalPools(repo: Paths.repo)
    let port = pools.ports["cryptonote_tls"]!
    let verdict = verifier().verify(Self.loopback, port: port)
    try #require(verdict.status == .pool)

    let path = Paths.scratch(UUID().uuidString + "-verified.pcap")
    // Twenty seconds of another host's encrypted traffic to the same endpoint: too little for
    // any rhythm.
    let w = try writeSuspectOfLocalPool(
      path, port: port, miner: "10.36.0.1", other: "10.36.0.2", otherAfter: 100, seed: 11)
    let t0: UInt64 = 1_763_900_000 * 1_000_000_000
    // The same address on another port is not the verified pool.
    TLSRhythm.flow(
      w, client: Peer("10.36.0.3", 50002), server: Peer("127.0.0.1", port &+ 1), startNs: t0,
      [(2, true, 300), (2.5, false, 900)])
    w.close()

    let unverified = try Scanner(signatures: loadSignatures()).scan(files: [path])
    #expect(unverified.miningHosts.map { "\($0.ip)" } == ["10.36.0.1"])
    #expect(unverified.host("10.36.0.1")?.sessions.first?.confidence == .medium)

    let scanner = try Scanner(signatures: loadSignatures())
    scanner.pipeline.addVerified(verdict)
    let r = try scanner.scan(files: [path])
    #expect(r.miningHosts.map { "\($0.ip)" }.sorted() == ["10.36.0.1", "10.36.0.2"])
    let miner = try #require(r.host("10.36.0.1")?.sessions.first)
    #expect(miner.finding == .encryptedPattern && miner.confidence == .high)
    #expect(miner.evidence.contains { $0.hasPrefix("verified:127.0.0.1:\(port) (cryptonote over TLS") })
    #expect(miner.algorithm == "randomx" && miner.coin == "XMR" && miner.sharesSubmitted == 60)
    // 60 shares × difficulty 10,000 over the session: a lower bound, said so.
    let rate = try #require(miner.hashrate?.rate)
    let window = Double(miner.lastNs - miner.firstNs) / 1e9
    #expect(within(rate, 600_000 / window, 0.01))
    #expect(miner.hashrateNote?.contains("lower bound") == true)
    let other = try #require(r.host("10.36.0.2")?.sessions.first)
    #expect(other.finding == .poolConnection && other.confidence == .high)
    #expect(other.poolName == "verified cryptonote pool at 127.0.0.1:\(port)")
    #expect(r.host("10.36.0.3") == nil)
    // A verdict that has expired attributes nothing any more.
    var expired = verdict
    expired.expiresAt = Date().addingTimeInterval(-1)
    let late = try Scanner(signatures: loadSignatures())
    late.pipeline.addVerified(expired)
    let lateReport = try late.scan(files: [path])
    #expect(lateReport.host("10.36.0.2") == nil)
  }
}

/// Probes seen by a verifier's thread, read by the test.
final class ProbeLog: @unchecked Sendable {
  private let lock = NSLock()
  private var lines: [String] = []
  func add(_ s: String) {
    lock.lock()
    lines.append(s)
    lock.unlock()
  }
  var count: Int {
    lock.lock()
    defer { lock.unlock() }
    return lines.count
  }
}
