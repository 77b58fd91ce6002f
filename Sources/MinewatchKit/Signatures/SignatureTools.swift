import Foundation

/// `minewatch signatures check | import | match`: the administrator's tools for the files.
public enum SignatureTools {
  /// A one-paragraph summary of a valid signature directory (errors are thrown with file:line).
  public static func check(directory: URL) throws -> String {
    let s = try Signatures(directory: directory)
    let byClass = Dictionary(grouping: s.domains.filter { !$0.isAddress }, by: \.kind)
    var seen: [String: String] = [:]
    var duplicates: [String] = []
    for d in s.domains {
      if let first = seen[d.name] {
        duplicates.append("\(d.source): \(d.name) repeats \(first); the first wins")
      }
      seen[d.name] = seen[d.name] ?? d.source
    }
    let table = try s.nameTable()
    var lines = [
      "\(directory.path): valid",
      "  \(byClass[.pool]?.count ?? 0) pool domains, \(byClass[.website]?.count ?? 0) website domains, "
        + "\(byClass[.browserMiner]?.count ?? 0) browser-miner domains, \(s.addresses.count) pool addresses",
      "  \(s.algorithms.count) algorithms, \(s.agents.count) miner agents, \(table.count) names in the match table",
    ]
    lines += duplicates.map { "  warning: \($0)" }
    return lines.joined(separator: "\n")
  }

  public enum ImportFormat: String, CaseIterable, Sendable { case hosts, adblock, plain }

  public struct ImportResult: Sendable {
    public var lines: [String]
    public var skipped: [String]  // "line N: reason"
  }

  /// Turns a public blocklist into pools.txt lines of the given class.
  public static func importList(
    _ text: String, format: ImportFormat, kind: Signatures.DomainClass, coins: String, pool: String
  ) -> ImportResult {
    var names: [String] = []
    var seen = Set<String>()
    var skipped: [String] = []
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      guard !line.isEmpty else { continue }
      var candidates: [String] = []
      switch format {
      case .plain:
        if line.hasPrefix("#") { continue }
        candidates = [String(line.split(separator: "#")[0]).trimmingCharacters(in: .whitespaces)]
      case .hosts:
        if line.hasPrefix("#") { continue }
        let fields = line.split(separator: "#")[0].split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2, IPAddress(String(fields[0])) != nil else {
          skipped.append("line \(i + 1): not '<address> <name>...'")
          continue
        }
        candidates = fields.dropFirst().map(String.init)
          .filter {
            ![
              "localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost", "ip6-loopback",
              "0.0.0.0",
            ].contains($0)
          }
      case .adblock:
        // Only whole-domain network rules say "this name is a miner": ||name^ with options.
        if line.hasPrefix("!") || line.hasPrefix("[") || line.contains("##") || line.contains("#@#") {
          continue
        }
        if line.hasPrefix("@@") {
          skipped.append("line \(i + 1): exception rule")
          continue
        }
        guard line.hasPrefix("||") else {
          skipped.append("line \(i + 1): not a domain rule")
          continue
        }
        // The host runs to the rule's separator (^), a path, options or a port.
        let body = line.dropFirst(2).prefix { !"^/$|:".contains($0) }
        if body.contains("*") {
          skipped.append("line \(i + 1): wildcard rule")
          continue
        }
        candidates = [String(body)]
      }
      for c in candidates {
        guard let ascii = Signatures.normalisedDomain(c), ascii.contains(".") else {
          skipped.append("line \(i + 1): '\(c)' is not a domain name")
          continue
        }
        if seen.insert(ascii).inserted { names.append(ascii) }
      }
    }
    let width = max(32, (names.map(\.count).max() ?? 0) + 2)
    let lines = names.map { n in
      n.padding(toLength: width, withPad: " ", startingAt: 0)
        + kind.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)
        + coins.padding(toLength: 7, withPad: " ", startingAt: 0) + pool
    }
    return ImportResult(lines: lines, skipped: skipped)
  }

  /// Says which entry a name matches and why, or that none does.
  public static func explain(_ name: String, signatures s: Signatures) throws -> String {
    let table = try s.nameTable()
    let query = name.lowercased()
    guard let ascii = Punycode.toASCII(query.trimmingCharacters(in: CharacterSet(charactersIn: "."))),
      let i = table.match(ascii), i < s.domains.count
    else {
      return "\(name): no entry matches"
    }
    let d = s.domains[i]
    let how = ascii == d.name ? "the entry itself" : "a name below \(d.name) (suffix on a label boundary)"
    let meaning: String
    switch d.kind {
    case .pool: meaning = "a connection to it is a pool connection (a finding)"
    case .website: meaning = "a pool's website: visiting it is not mining"
    case .browserMiner: meaning = "an in-browser mining service (a browser-miner finding)"
    }
    return """
      \(name): matches \(d.name) at \(d.source): \(how)
        class \(d.kind.rawValue), coins \(d.coins.isEmpty ? "-" : d.coins.joined(separator: ",")), pool \(d.pool)
        \(meaning)
      """
  }
}
