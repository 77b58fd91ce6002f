import ArgumentParser
import Foundation
import MinewatchKit

/// `minewatch signatures …`: check, import and explain the signature files.
struct SignaturesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "signatures", abstract: "Check, import, query and update the signature files.",
    subcommands: [Check.self, Import.self, Match.self, Update.self, Rollback.self])

  /// Where updates go and how the running daemon hears of them (update and rollback alike).
  struct Managed: ParsableArguments {
    @Option(
      help: ArgumentHelp(
        "The managed signature link the daemon's `signatures =` names.",
        discussion:
          "It becomes a link to DIR.sets/NAME; an ordinary directory there is adopted as the first set."),
      completion: .directory)
    var into: String = "/var/lib/minewatch/signatures"
    @Option(help: "Send SIGHUP to this daemon process instead of reloading minewatch.service.")
    var pid: Int32?
    @Flag(help: "Do not tell any daemon; it takes the set at its next start or SIGHUP.")
    var noReload = false

    /// SIGHUP to the named process, else `systemctl reload` when the service runs.
    func reload() {
      if noReload { return }
      if let pid {
        guard kill(pid, SIGHUP) == 0 else {
          fail("cannot signal process \(pid): \(String(cString: strerror(errno)))")
        }
        print("told process \(pid) to reload (SIGHUP)")
        return
      }
      guard
        (try? SignatureUpdate.run(
          "systemctl", ["is-active", "--quiet", "minewatch.service"], what: "systemctl")) != nil
      else {
        print("no running minewatch.service: the daemon takes the new set when it starts or gets SIGHUP")
        return
      }
      do {
        try SignatureUpdate.run("systemctl", ["reload", "minewatch.service"], what: "minewatch.service")
        print("minewatch.service reloaded")
      } catch {
        fail("\(error)")
      }
    }
  }

  struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "update",
      abstract: "Install a new signature set: validate it, put it in force atomically, reload the daemon.",
      discussion: """
        SOURCE is a directory, a .tar, .tar.gz or .tar.xz archive (holding the files or one folder of \
        them), or an http(s) URL of such an archive (fetched with curl). The set must pass \
        `signatures check`; a set that does not changes nothing. The set in force before is kept \
        for `signatures rollback`.
        """)
    @Argument(help: "The new set: directory, archive or URL.") var source: String
    @OptionGroup var managed: Managed

    func run() throws {
      let outcome: SignatureUpdate.Outcome
      do {
        outcome = try SignatureUpdate(link: URL(fileURLWithPath: managed.into)).update(from: source)
      } catch let e as MinewatchError {
        fail(e.description)
      }
      print(outcome.summary)
      print(
        "installed \(outcome.installed) at \(managed.into)\(outcome.previous.map { " (kept \($0) for rollback)" } ?? "")"
      )
      managed.reload()
    }
  }

  struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rollback",
      abstract: "Put the signature set in force before the last update back, and reload the daemon.")
    @OptionGroup var managed: Managed

    func run() throws {
      let outcome: SignatureUpdate.Outcome
      do {
        outcome = try SignatureUpdate(link: URL(fileURLWithPath: managed.into)).rollback()
      } catch let e as MinewatchError {
        fail(e.description)
      }
      print("back to \(outcome.installed) at \(managed.into) (\(outcome.previous ?? "-") kept)")
      managed.reload()
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check", abstract: "Validate a signature directory; errors name file:line.")
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
      commandName: "import",
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
    static let configuration = CommandConfiguration(
      commandName: "match", abstract: "Say which entry matches a name, and why.")
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
  guard let dir = Minewatch.defaultSignatures else {
    fail("no signature directory found: pass one or set MINEWATCH_SIGNATURES")
  }
  return dir
}

/// One line on stderr, exit status 2.
func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("minewatch: \(message)\n".utf8))
  Foundation.exit(2)
}
