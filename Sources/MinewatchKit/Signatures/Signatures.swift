import Foundation
import MinewatchCore

/// What the signature files say: pool domains and the algorithm table. Loaded once; every
/// malformed line is an error naming file:line.
public struct Signatures: Sendable {
  public enum DomainClass: String, Sendable {
    case pool, website
    case browserMiner = "browser-miner"
  }

  public struct Domain: Sendable {
    public let name: String
    public let kind: DomainClass
    public let coins: [String]
    public let pool: String
    /// Where the entry was read: file:line.
    public let source: String
    /// An entry of addresses.txt: matched by address, not by name.
    public var isAddress = false
  }

  public enum ShareUnit: Sendable, Equatable {
    /// hashes = difficulty × multiplier
    case perDifficulty(Double)
    /// hashes = 2^256 / target
    case target
    /// the difficulty counts hashes already
    case difficulty
  }

  /// A miner program recognised by the agent string it sends (subscribe or login).
  public struct Agent: Sendable {
    public let prefix: String  // lower case
    public let miner: String
    public let hardware: String
  }

  /// An address a pool publishes for its endpoints.
  public struct Address: Sendable {
    public let ip: IPAddress
    public let domain: Int  // index into domains: a synthetic entry naming the pool
  }

  public struct Algorithm: Sendable {
    public let name: String
    public let unit: ShareUnit
    public let coins: [String]
  }

  public private(set) var domains: [Domain] = []
  public private(set) var algorithms: [String: Algorithm] = [:]
  public private(set) var algorithmByCoin: [String: String] = [:]
  public private(set) var agents: [Agent] = []
  public private(set) var addresses: [Address] = []
  /// Watts per hash per second by algorithm (energy.txt).
  public private(set) var energy: [String: Efficiency] = [:]

  /// A pool or agent typical of mining malware (cryptojacking.txt).
  public struct CryptojackingSign: Sendable {
    public enum What: String, Sendable { case pool, agent }
    public let what: What
    public let pattern: String  // lower case
    public let source: String  // file:line and the published source
  }
  public private(set) var cryptojacking: [CryptojackingSign] = []

  public init() {}

  /// The same signatures with no pool names or addresses: only what the traffic itself shows
  /// (the protocol read, or an encrypted flow's rhythm) can find mining. For measuring
  /// behavioural detection on any capture (`scan --no-names`).
  public func withoutNames() -> Signatures {
    var s = self
    s.domains = []
    s.addresses = []
    s.cryptojacking = s.cryptojacking.filter { $0.what == .agent }
    return s
  }

  /// Loads a signature directory: `algorithms.txt` and `pools.txt` must be there; `agents.txt`,
  /// `addresses.txt` and any `*.pools.txt` (imported lists) are read when present.
  public init(directory: URL) throws {
    let fm = FileManager.default
    try loadAlgorithms(directory.appendingPathComponent("algorithms.txt"))
    try loadPools(directory.appendingPathComponent("pools.txt"))
    let extra = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? [])
      .filter { $0.hasSuffix(".pools.txt") }.sorted()
    for name in extra { try loadPools(directory.appendingPathComponent(name)) }
    let agentsFile = directory.appendingPathComponent("agents.txt")
    if fm.fileExists(atPath: agentsFile.path) { try loadAgents(agentsFile) }
    let energyFile = directory.appendingPathComponent("energy.txt")
    if fm.fileExists(atPath: energyFile.path) { energy = try Self.loadEnergy(energyFile) }
    let addressFile = directory.appendingPathComponent("addresses.txt")
    if fm.fileExists(atPath: addressFile.path) { try loadAddresses(addressFile) }
    let jackingFile = directory.appendingPathComponent("cryptojacking.txt")
    if fm.fileExists(atPath: jackingFile.path) { try loadCryptojacking(jackingFile) }
  }

  mutating func loadCryptojacking(_ url: URL) throws {
    for (n, f) in try Self.dataLines(url) {
      let at = "\(url.path):\(n)"
      guard f.count >= 3, let what = CryptojackingSign.What(rawValue: f[0]) else {
        throw MinewatchError.signatures("\(at): expected pool|agent <pattern> <source>")
      }
      var pattern = f[1].lowercased()
      if what == .pool {
        guard let name = Self.normalisedDomain(f[1]) else {
          throw MinewatchError.signatures("\(at): '\(f[1])' is not a domain name")
        }
        pattern = name
      }
      cryptojacking.append(
        CryptojackingSign(
          what: what, pattern: pattern,
          source: "\(url.lastPathComponent):\(n) (\(f[2...].joined(separator: " ")))"))
    }
  }

  /// The cryptojacking sign a pool name (suffix on a label boundary) or an agent (prefix) hits.
  public func cryptojackingSign(pool: String?, agent: String?) -> [CryptojackingSign] {
    cryptojacking.filter { sign in
      switch sign.what {
      case .pool:
        guard let p = pool?.lowercased() else { return false }
        return p == sign.pattern || p.hasSuffix("." + sign.pattern)
      case .agent:
        return agent?.lowercased().hasPrefix(sign.pattern) ?? false
      }
    }
  }

  /// Where the signatures live when none is named: beside the executable after `make install`,
  /// or the source tree's copy when run from a build folder.
  /// The date of a signature set (the first line of its VERSION file), if it names one.
  public static func setDate(in directory: URL) -> String? {
    guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("VERSION").path),
      data.count < 256, let line = String(data: data, encoding: .utf8)?.split(separator: "\n").first
    else { return nil }
    let date = line.trimmingCharacters(in: .whitespaces)
    return date.isEmpty ? nil : date
  }

  public static func defaultDirectory() -> URL? {
    let fm = FileManager.default
    var candidates: [URL] = []
    if let env = ProcessInfo.processInfo.environment["MINEWATCH_SIGNATURES"] {
      candidates.append(URL(fileURLWithPath: env))
    }
    // The running binary itself (argv[0] is only a name when the shell found it on PATH).
    let selfPath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    let exe = URL(fileURLWithPath: selfPath ?? CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    candidates.append(dir.appendingPathComponent("../share/minewatch/signatures"))
    for _ in 0..<4 {
      candidates.append(dir.appendingPathComponent("signatures"))
      dir = dir.deletingLastPathComponent()
    }
    candidates.append(URL(fileURLWithPath: "/usr/local/share/minewatch/signatures"))
    candidates.append(URL(fileURLWithPath: "/usr/share/minewatch/signatures"))
    candidates.append(URL(fileURLWithPath: "signatures"))
    return candidates.first { fm.fileExists(atPath: $0.appendingPathComponent("pools.txt").path) }
      .map { $0.standardizedFileURL }
  }

  /// Lines without comments and blanks, with their numbers, split on blanks. Works on bytes:
  /// an imported list of 100,000 names must load in well under a second.
  static func dataLines(_ url: URL) throws -> [(Int, [String])] {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw MinewatchError.signatures("\(url.path): cannot read: \(error.localizedDescription)")
    }
    guard data.count <= 64 << 20 else {
      throw MinewatchError.signatures("\(url.path): larger than 64 MiB")
    }
    return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> [(Int, [String])] in
      let bytes = raw.bindMemory(to: UInt8.self)
      guard raw.isEmpty || memchr(raw.baseAddress!, 0, raw.count) == nil,
        String(validating: bytes, as: UTF8.self) != nil
      else {
        throw MinewatchError.signatures("\(url.path):1: not UTF-8 text")
      }
      var out: [(Int, [String])] = []
      var lineNo = 0
      var i = 0
      let n = bytes.count
      while i < n {
        lineNo += 1
        var end = i
        while end < n && bytes[end] != 0x0A { end += 1 }
        var fields: [String] = []
        var j = i
        while j < end && bytes[j] != 0x23 {  // '#' starts a comment
          if bytes[j] == 0x20 || bytes[j] == 0x09 || bytes[j] == 0x0D {
            j += 1
            continue
          }
          let start = j
          while j < end && bytes[j] != 0x20 && bytes[j] != 0x09 && bytes[j] != 0x0D && bytes[j] != 0x23 {
            j += 1
          }
          fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<j]), as: UTF8.self))
        }
        if !fields.isEmpty { out.append((lineNo, fields)) }
        i = end + 1
      }
      return out
    }
  }

  mutating func loadAlgorithms(_ url: URL) throws {
    for (n, f) in try Self.dataLines(url) {
      let at = "\(url.path):\(n)"
      guard f.count >= 3 else {
        throw MinewatchError.signatures("\(at): expected <algorithm> <hashes> <coins> [source]")
      }
      let unit: ShareUnit
      let h = String(f[1])
      if h == "target" {
        unit = .target
      } else if h == "difficulty" {
        unit = .difficulty
      } else if h.hasPrefix("2^"), let e = Int(h.dropFirst(2)), (0...255).contains(e) {
        unit = .perDifficulty(pow(2, Double(e)))
      } else if let v = Double(h), v > 0, v.isFinite {
        unit = .perDifficulty(v)
      } else {
        throw MinewatchError.signatures("\(at): hashes '\(h)' is not a number, 2^N, target or difficulty")
      }
      let coins = f[2] == "-" ? [] : f[2].split(separator: ",").map { String($0).uppercased() }
      let name = String(f[0]).lowercased()
      algorithms[name] = Algorithm(name: name, unit: unit, coins: coins)
      for c in coins where algorithmByCoin[c] == nil { algorithmByCoin[c] = name }
    }
  }

  mutating func loadPools(_ url: URL) throws {
    // URL properties parse the URL each time: read them once, not per line.
    let path = url.path
    let file = url.lastPathComponent
    for (n, f) in try Self.dataLines(url) {
      var at: String { "\(path):\(n)" }
      guard f.count >= 4 else {
        throw MinewatchError.signatures("\(at): expected <domain> <class> <coins> <pool name>")
      }
      guard let name = Self.normalisedDomain(f[0]) else {
        throw MinewatchError.signatures("\(at): '\(f[0])' is not a domain name")
      }
      guard let kind = DomainClass(rawValue: String(f[1])) else {
        throw MinewatchError.signatures("\(at): class '\(f[1])' is not pool, website or browser-miner")
      }
      let coins = f[2] == "-" ? [] : f[2].split(separator: ",").map { String($0).uppercased() }
      domains.append(
        Domain(
          name: name, kind: kind, coins: coins, pool: f.count == 4 ? f[3] : f[3...].joined(separator: " "),
          source: "\(file):\(n)"))
    }
  }

  mutating func loadAgents(_ url: URL) throws {
    for (n, f) in try Self.dataLines(url) {
      guard f.count >= 3 else {
        throw MinewatchError.signatures("\(url.path):\(n): expected <agent prefix> <hardware> <miner name>")
      }
      guard ["cpu", "gpu", "asic", "any", "proxy"].contains(String(f[1])) else {
        throw MinewatchError.signatures(
          "\(url.path):\(n): hardware '\(f[1])' is not cpu, gpu, asic, any or proxy")
      }
      agents.append(
        Agent(prefix: f[0].lowercased(), miner: f[2...].joined(separator: " "), hardware: String(f[1])))
    }
    // Longest prefix first, so "xmrig-proxy/" wins over "xmrig".
    agents.sort { $0.prefix.count > $1.prefix.count }
  }

  mutating func loadAddresses(_ url: URL) throws {
    for (n, f) in try Self.dataLines(url) {
      guard f.count >= 3, let ip = IPAddress(String(f[0])) else {
        throw MinewatchError.signatures("\(url.path):\(n): expected <IP address> <coins> <pool name>")
      }
      let coins = f[1] == "-" ? [] : f[1].split(separator: ",").map { String($0).uppercased() }
      domains.append(
        Domain(
          name: "\(ip)", kind: .pool, coins: coins, pool: f[2...].joined(separator: " "),
          source: "\(url.lastPathComponent):\(n)", isAddress: true))
      addresses.append(Address(ip: ip, domain: domains.count - 1))
    }
  }

  /// The entry a verified pool endpoint is reported under: its coins from the algorithm the
  /// pool named, when the algorithm table knows it.
  func verifiedDomain(_ v: PoolVerdict) -> Domain {
    let coins = v.algorithm.flatMap { algorithms[ReportBuilder.canonicalAlgorithm($0)]?.coins } ?? []
    return Domain(
      name: v.endpoint, kind: .pool, coins: coins,
      pool: "verified \(v.family?.rawValue ?? "") pool at \(v.endpoint)".replacingOccurrences(
        of: "  ", with: " "),
      source:
        "verified \(v.checkedAtText)",
      isAddress: true)
  }

  /// The miner program an agent string names, by the longest listed prefix.
  public func agent(for text: String) -> Agent? {
    let t = text.lowercased()
    return agents.first { t.hasPrefix($0.prefix) }
  }

  /// Lower case, no leading or trailing dot, IDN labels in Punycode; nil when not a name.
  static func normalisedDomain(_ text: String) -> String? {
    var utf8 = Array(text.utf8)
    if utf8.allSatisfy({ $0 < 0x80 }) {
      while utf8.last == 0x2E { utf8.removeLast() }
      while utf8.first == 0x2E { utf8.removeFirst() }
      for k in utf8.indices where utf8[k] >= 0x41 && utf8[k] <= 0x5A { utf8[k] += 32 }
      let name = String(decoding: utf8, as: UTF8.self)
      return isValidDomain(name) ? name : nil
    }
    let trimmed = text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    guard let name = Punycode.toASCII(trimmed), isValidDomain(name) else { return nil }
    return name
  }

  static func isValidDomain(_ s: String) -> Bool {
    guard !s.isEmpty, s.utf8.count <= 253 else { return false }
    var label = 0
    for c in s.utf8 {
      if c == 0x2E {
        if label == 0 { return false }
        label = 0
        continue
      }
      guard (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f else {
        return false
      }
      label += 1
      if label > 63 { return false }
    }
    return label > 0
  }

  /// The C name table for these domains; values index `domains`.
  public func nameTable() throws -> NameTable {
    let t = try NameTable(capacity: domains.count)
    for (i, d) in domains.enumerated() where !d.isAddress {
      // Websites are flagged so the C core raises nothing for them.
      t.add(d.name, value: d.kind == .website ? i | Int(MW_NAME_QUIET) : i)
    }
    return t
  }

  public func algorithm(forCoin coin: String) -> Algorithm? {
    algorithmByCoin[coin.uppercased()].flatMap { algorithms[$0] }
  }
}
