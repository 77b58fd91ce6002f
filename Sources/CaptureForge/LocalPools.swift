import Foundation

/// The local endpoints verification tests talk to: Tests/Fixtures/pools/local_pools.py on
/// 127.0.0.1 (pools of each family, plain and TLS with a self-signed certificate made here, and
/// services that are not pools). Stops when this object goes.
public final class LocalPools: @unchecked Sendable {
  /// Port by endpoint name (cryptonote_tls, stratum_plain, https, echo, closed, …).
  public let ports: [String: UInt16]
  private let process: Process
  private let input: Pipe

  public enum Failure: Error, CustomStringConvertible {
    case tool(String)
    public var description: String {
      switch self {
      case .tool(let s): s
      }
    }
  }

  public init(repo: URL) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mw-pools-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let cert = dir.appendingPathComponent("cert.pem").path
    let key = dir.appendingPathComponent("key.pem").path
    let openssl = Process()
    openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    openssl.arguments = [
      "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
      "-subj", "/CN=pool.example.test",
    ]
    openssl.standardError = FileHandle.nullDevice
    openssl.standardOutput = FileHandle.nullDevice
    try openssl.run()
    openssl.waitUntilExit()
    guard openssl.terminationStatus == 0 else { throw Failure.tool("openssl could not make a certificate") }

    process = Process()
    input = Pipe()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", repo.appendingPathComponent("Tests/Fixtures/pools/local_pools.py").path, cert, key,
    ]
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    // The first line names the ports once everything listens.
    var line = Data()
    let deadline = Date().addingTimeInterval(20)
    while !line.contains(0x0A), Date() < deadline {
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      line += chunk
    }
    guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Int] else {
      process.terminate()
      throw Failure.tool("local_pools.py did not start: \(String(decoding: line, as: UTF8.self))")
    }
    ports = object.mapValues { UInt16($0) }
  }

  deinit {
    try? input.fileHandleForWriting.close()
    process.terminate()
    process.waitUntilExit()
  }
}
