import Foundation

/// How a verification behaves: an active measure, so every bound is explicit.
public struct VerifySettings: Sendable, Equatable {
  /// The address probes leave from (nil: the system's choice).
  public var source: IPAddress?
  /// Each probe's connection, handshake and answer together.
  public var timeoutSeconds = 4.0
  /// The login sent (a wallet no pool pays, so the probe can never earn or be credited).
  public var login = "minewatch-verify"
  /// `auto`: TLS first when the suspect flow was TLS, then plain; `yes`/`no`: only that.
  public enum TLSMode: String, Sendable { case auto, yes, no }
  public var tls = TLSMode.auto
  /// Bytes read of an answer at most.
  public var answerLimit = 16 * 1024
  /// How long a verdict holds: a pool's for a week, anything else for a day, an unreachable
  /// endpoint's for an hour.
  public var poolValidSeconds: Double = 7 * 86_400
  public var notPoolValidSeconds: Double = 86_400
  public var unreachableValidSeconds: Double = 3_600
  /// Endpoints verified per minute at most (each takes up to 6 connections).
  public var perMinute = 4

  public init() {}
}

/// Verifies one endpoint: connects (TLS and plain), sends each family's login, and reads the
/// answer. Blocking, bounded by the settings' timeouts; one endpoint at a time.
public struct PoolVerifier: Sendable {
  public var settings: VerifySettings
  /// Called with each probe as it ends (every probe is logged).
  public var onProbe: (@Sendable (IPAddress, UInt16, ProbeRecord) -> Void)?

  public init(settings: VerifySettings) { self.settings = settings }

  /// `likelyTLS`: the suspect flow was TLS, so TLS is tried first in `auto` mode.
  public func verify(
    _ ip: IPAddress, port: UInt16, likelyTLS: Bool = true, serverName: String? = nil, now: Date = Date()
  )
    -> PoolVerdict
  {
    var probes: [ProbeRecord] = []
    var modes: [Bool]
    switch settings.tls {
    case .yes: modes = [true]
    case .no: modes = [false]
    case .auto: modes = likelyTLS ? [true, false] : [false, true]
    }
    var notPool: String?
    var anyConnected = false
    var lastFailure = "no probe was made"
    modeLoop: for (i, tls) in modes.enumerated() {
      for family in PoolFamily.allCases {
        let started = ProbeConnection.monotonicNs()
        let (reading, detail, cert) = probe(ip, port, family: family, tls: tls, serverName: serverName)
        let ms = Int((ProbeConnection.monotonicNs() - started) / 1_000_000)
        func log(_ outcome: String, _ text: String) {
          let r = ProbeRecord(family: family, tls: tls, outcome: outcome, detail: text, milliseconds: ms)
          probes.append(r)
          onProbe?(ip, port, r)
        }
        switch reading {
        case .failure(let f):
          log("failed", f.description)
          lastFailure = f.description
          // Refused, unreachable or timed out: another family will meet the same. A failed
          // TLS handshake says only that this endpoint does not speak TLS.
          if case .tlsFailed = f, i + 1 < modes.count { continue modeLoop }
          if case .tlsFailed = f { break modeLoop }
          if anyConnected, i + 1 < modes.count { continue modeLoop }
          break modeLoop
        case .answer(.tlsOnly):
          anyConnected = true
          log("tls-only", "the endpoint answered with TLS records")
          if i + 1 < modes.count { continue modeLoop }
          break modeLoop
        case .answer(.silent):
          anyConnected = true
          log("silent", "connected; no answer within \(settings.timeoutSeconds) s")
        case .answer(.notPool(let why, let final)):
          anyConnected = true
          log("not-pool", why)
          notPool = notPool ?? why
          if final { break modeLoop }
        case .answer(.pool(let facts)):
          log("pool", facts.detail)
          return PoolVerdict(
            ip: ip, port: port, status: .pool, family: family, tls: tls, reason: facts.detail,
            algorithm: facts.algorithm ?? (facts.ethash ? "ethash" : nil), difficulty: facts.difficulty,
            hashesPerShare: facts.hashesPerShare, answer: detail, certificate: cert, checkedAt: now,
            expiresAt: now.addingTimeInterval(settings.poolValidSeconds), probes: probes)
        }
      }
    }
    if anyConnected {
      return PoolVerdict(
        ip: ip, port: port, status: .notPool, family: nil, tls: nil,
        reason: notPool ?? "no pool answer to any family's login", answer: nil, certificate: nil,
        checkedAt: now,
        expiresAt: now.addingTimeInterval(settings.notPoolValidSeconds), probes: probes)
    }
    return PoolVerdict(
      ip: ip, port: port, status: .unreachable, family: nil, tls: nil, reason: lastFailure, answer: nil,
      certificate: nil, checkedAt: now, expiresAt: now.addingTimeInterval(settings.unreachableValidSeconds),
      probes: probes)
  }

  private enum ProbeResult {
    case failure(ProbeConnection.Failure)
    case answer(PoolAnswer.Reading)
  }

  private func probe(_ ip: IPAddress, _ port: UInt16, family: PoolFamily, tls: Bool, serverName: String?) -> (
    ProbeResult, String?, String?
  ) {
    let c: ProbeConnection
    do {
      c = try ProbeConnection(
        to: ip, port: port, from: settings.source, tls: tls, serverName: serverName,
        timeout: settings.timeoutSeconds)
    } catch {
      return (.failure(error), nil, nil)
    }
    guard c.send(PoolAnswer.request(family, login: settings.login)) else {
      return (.answer(.silent), nil, c.certificateSubject)
    }
    let got = c.receive(limit: settings.answerLimit) { bytes in
      if PoolAnswer.decided(bytes) { return true }
      // A job or work settles it; a subscription waits for the difficulty that follows.
      if PoolAnswer.hasLine(bytes), case .pool(let f) = PoolAnswer.read(bytes, family: family, closed: false),
        f.reason == "job" || f.reason == "work"
      {
        return true
      }
      // What belongs to the first answer (a subscription's difficulty and job) comes at once.
      if c.settleNs == nil, PoolAnswer.hasLine(bytes) {
        c.settleNs = ProbeConnection.monotonicNs() + 700_000_000
      }
      return false
    }
    let reading = PoolAnswer.read(got.bytes, family: family, closed: got.closed)
    let firstLine = got.bytes.prefix { $0 != 0x0A }
    return (.answer(reading), firstLine.isEmpty ? nil : PoolAnswer.printable(firstLine), c.certificateSubject)
  }
}
