import ArgumentParser
import Foundation
import MinewatchKit

/// `minewatch signatures …`: check, import and explain the signature files.
struct SignaturesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "signatures", abstract: "Check, import and query the signature files.",
    subcommands: [Check.self, Import.self, Match.self])

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Validate a signature directory; errors name file:line.")
    @Argument(help: "The directory (default: the one scan uses).") var directory: String?

    func run() throws {
      let dir = try signatureDirectory(directory)
      do {
        print(try SignatureTools.check(directory: dir))
      } catch let e as MinewatchError {
        fail(e.description)
      }
    }
  }

  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Turn a public blocklist into pools.txt lines (written to standard output).",
      discussion: """
        Save the output as NAME.pools.txt in the signature directory: every *.pools.txt there \
        is loaded. Lines that are not domain rules are skipped and counted on standard error.
        """)
    @Option(help: "hosts, adblock or plain.") var format: SignatureTools.ImportFormat
    @Option(name: .customLong("class"), help: "pool or browser-miner.") var kind: String = "pool"
    @Option(help: "Comma-separated coins, or -.") var coins: String = "-"
    @Option(help: "The pool or list name to record.") var pool: String = "imported"
    @Argument(help: "The list file; - reads standard input.") var file: String

    func run() throws {
      guard let cls = Signatures.DomainClass(rawValue: kind), cls != .website else {
        fail("--class must be pool or browser-miner")
      }
      let data: Data
      do {
        data =
          file == "-"
          ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
      } catch {
        fail("\(file): cannot read: \(error.localizedDescription)")
      }
      guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
        fail("\(file): not UTF-8 text")
      }
      let r = SignatureTools.importList(text, format: format, kind: cls, coins: coins, pool: pool)
      print("# imported from \(file) (\(format.rawValue) format) by minewatch signatures import")
      for l in r.lines { print(l) }
      FileHandle.standardError.write(
        Data("minewatch: \(r.lines.count) names imported, \(r.skipped.count) lines skipped\n".utf8))
      for s in r.skipped.prefix(20) { FileHandle.standardError.write(Data("  \(s)\n".utf8)) }
    }
  }

  struct Match: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Say which entry matches a name, and why.")
    @Option(help: "Directory holding the signature files.") var signatures: String?
    @Argument(help: "A domain name.") var name: String

    func run() throws {
      let dir = try signatureDirectory(signatures)
      do {
        print(try SignatureTools.explain(name, signatures: Signatures(directory: dir)))
      } catch let e as MinewatchError {
        fail(e.description)
      }
    }
  }
}

extension SignatureTools.ImportFormat: ExpressibleByArgument {}

/// The named directory, or the one scan would use.
func signatureDirectory(_ named: String?) throws -> URL {
  if let named { return URL(fileURLWithPath: named) }
  guard let dir = Signatures.defaultDirectory() else {
    fail("no signature directory found: pass one or set MINEWATCH_SIGNATURES")
  }
  return dir
}

/// One line on stderr, exit status 2.
func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("minewatch: \(message)\n".utf8))
  Foundation.exit(2)
}
