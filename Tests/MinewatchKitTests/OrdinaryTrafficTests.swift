import Foundation
import Testing

@testable import MinewatchKit

/// The 260 real captures of other protocols in Tests/Fixtures/captures/ordinary (TLS, QUIC,
/// VPNs, chat, games, mail, IoT, tunnels): none may ever give a mining host, and a file minewatch
/// cannot read says so in one line instead of crashing.
@Suite struct OrdinaryTrafficTests {
  static let files: [String] = {
    let dir = Paths.captures.appendingPathComponent("ordinary").path
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
      .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
  }()

  @Test func theFixturesAreAllThere() {
    #expect(Self.files.count == 260)
  }

  @Test(arguments: files)
  func ordinaryTrafficIsNotMining(file: String) throws {
    let path = Paths.capture("ordinary/" + file)
    let report: ScanReport
    do {
      report = try scan([path])
    } catch let e as MinewatchError {
      // An unsupported link type: one line naming the file, nothing else.
      let text = "\(e)"
      #expect(text.contains(file) && !text.contains("\n"), "\(text)")
      return
    }
    #expect(report.capture.packets > 0)
    let flagged = report.hosts.filter { $0.role != .lookup }
    #expect(
      flagged.isEmpty, "\(file): \(flagged.map { "\($0.ip) \($0.role) \($0.sessions.map(\.evidence))" })")
  }
}
