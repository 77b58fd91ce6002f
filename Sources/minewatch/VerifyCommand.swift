import ArgumentParser
import Foundation
import MinewatchKit

/// `minewatch verify ADDR:PORT...`: an active check of suspect endpoints. It connects to each
/// (TLS and plain), sends the login of each pool family, and reads the answer. Contacting an
/// address is an active measure: the README says when an operator should choose it.
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Connect to suspect endpoints and ask, as a miner would, whether each is a mining pool.",
    discussion: """
      Active: this contacts the endpoints given. Every probe is printed on standard error. \
      With --verdicts, verdicts are cached in that file until they expire (a pool's after a week, \
      anything else's after a day, an unreachable endpoint's after an hour) and an endpoint with a \
      verdict in force is not contacted again; `scan --verdicts FILE` then attributes flows to \
      the pools found.
      """)

  @Argument(help: "Endpoints: ADDR:PORT or [V6ADDR]:PORT.")
  var endpoints: [String]

  @Option(help: "TLS: auto (TLS first, then plain), yes or no.")
  var tls: String = "auto"

  @Option(help: "Leave from this local address.")
  var source: String?

  @Option(help: "Seconds for each probe's connection, handshake and answer together (0.5-30).")
  var timeout: Double = 4

  @Option(help: "The login sent (never a real wallet).")
  var login = "minewatch-verify"

  @Option(help: "Verdict file: cached verdicts are used, new ones kept.")
  var verdicts: String?

  @Option(name: .customLong("per-minute"), help: "Endpoints verified per minute at most.")
  var perMinute = 30

  @Option(help: "Output format: table or json.")
  var format: OutputFormat = .table

  func run() throws {
    var settings = VerifySettings()
    guard let mode = VerifySettings.TLSMode(rawValue: tls) else {
      throw ValidationError("--tls must be auto, yes or no")
    }
    settings.tls = mode
    guard (0.5...30).contains(timeout) else { throw ValidationError("--timeout must be 0.5 to 30 seconds") }
    settings.timeoutSeconds = timeout
    guard (1...600).contains(perMinute) else { throw ValidationError("--per-minute must be 1 to 600") }
    settings.perMinute = perMinute
    guard !login.isEmpty, login.count <= 128 else {
      throw ValidationError("--login must be 1 to 128 characters")
    }
    settings.login = login
    if let source {
      guard let ip = IPAddress(source) else {
        throw ValidationError("--source: not an IP address: \(source)")
      }
      settings.source = ip
    }
    var targets: [(IPAddress, UInt16)] = []
    for e in endpoints {
      guard let t = parseEndpoint(e) else { throw ValidationError("not ADDR:PORT: \(e)") }
      targets.append(t)
    }
    let store: VerdictStore
    do {
      store = try VerdictStore(path: verdicts)
    } catch let e as MinewatchError {
      fail(e.description)
    }
    var verifier = PoolVerifier(settings: settings)
    verifier.onProbe = { ip, port, p in
      FileHandle.standardError.write(
        Data(
          "minewatch: probe \(PoolVerdict.endpoint(ip, port)) \(p.family.rawValue)\(p.tls ? " tls" : ""): \(p.outcome), \(p.detail) (\(p.milliseconds) ms)\n"
            .utf8))
    }
    let queue = VerifyQueue(verifier: verifier, store: store, maxPending: max(256, targets.count))
    queue.onStoreError = {
      FileHandle.standardError.write(Data("minewatch: warning: verdict file: \($0)\n".utf8))
    }
    var results: [String: PoolVerdict] = [:]
    for (ip, port) in targets {
      if let cached = store.verdict(ip, port) {
        results[cached.endpoint] = cached
        FileHandle.standardError.write(
          Data("minewatch: \(cached.endpoint): cached verdict, not contacted\n".utf8))
      } else {
        queue.request(ip, port: port, likelyTLS: true)
      }
    }
    while results.count < Set(targets.map { PoolVerdict.endpoint($0.0, $0.1) }).count {
      for v in queue.take() { results[v.endpoint] = v }
      usleep(50_000)
    }
    queue.stop()
    let ordered = targets.compactMap { results[PoolVerdict.endpoint($0.0, $0.1)] }
    switch format {
    case .table:
      for v in ordered { print(v.summary) }
    case .json:
      let data = try VerdictStore.encoder.encode(ordered)
      FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
  }
}
