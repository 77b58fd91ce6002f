import ArgumentParser
import Foundation
import MinewatchKit

/// `minewatch evidence verify DIR`: the chain of evidence.log and every file against its hash.
struct EvidenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evidence", abstract: "Check the evidence kept by scan --evidence or the daemon.",
    subcommands: [Verify.self])

  /// Exit codes: 0 intact, 1 a problem found (each on one line), 2 unreadable.
  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "verify", abstract: "Verify evidence.log's hash chain and each file's SHA-256.")
    @Argument(help: "The evidence directory.") var directory: String

    func run() throws {
      let result: (records: Int, problems: [String])
      do {
        result = try EvidenceLog.verify(directory: directory)
      } catch let e as MinewatchError {
        fail(e.description)
      }
      for p in result.problems { print("\(directory): \(p)") }
      if result.problems.isEmpty {
        print("\(directory): \(result.records) records, chain intact, every file matches its SHA-256")
      } else {
        throw ExitCode(1)
      }
    }
  }
}
