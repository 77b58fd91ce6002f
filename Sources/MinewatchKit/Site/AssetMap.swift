import Foundation

/// Which unit of the organisation an address belongs to: CIDR → unit, contact, class. The
/// longest matching prefix wins, so a lab's /24 can sit inside its faculty's /16.
public struct AssetMap: Sendable {
  public struct Entry: Sendable, Equatable {
    public let network: CIDR
    public let unit: String
    public let contact: String?
    public let kind: String  // research, servers, labs, dorms, offices, …
  }

  public private(set) var entries: [Entry] = []

  public init() {}

  /// Reads CSV lines `cidr,unit,contact,class` (`#` comments, blank lines, an optional header
  /// as the first line that is neither, starting with "cidr"); a bad line is an error naming file:line.
  public init(csv url: URL) throws {
    let path = url.path
    for (i, (n, raw)) in try Self.lines(url).enumerated() {
      let f = raw.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      if i == 0 && f.first?.lowercased() == "cidr" { continue }  // the header, after any comments
      guard f.count == 4 else {
        throw MinewatchError.usage("\(path):\(n): expected cidr,unit,contact,class")
      }
      guard let net = CIDR(f[0]) else {
        throw MinewatchError.usage("\(path):\(n): '\(f[0])' is not a CIDR network")
      }
      guard !f[1].isEmpty else { throw MinewatchError.usage("\(path):\(n): the unit is empty") }
      guard !f[3].isEmpty, f[3].allSatisfy({ $0.isLetter || $0 == "-" || $0 == "_" }) else {
        throw MinewatchError.usage(
          "\(path):\(n): class '\(f[3])' must be a word (research, servers, labs, dorms, …)")
      }
      entries.append(
        Entry(network: net, unit: f[1], contact: f[2].isEmpty ? nil : f[2], kind: f[3].lowercased()))
    }
    // Most specific first: the first match is the longest prefix.
    entries.sort { $0.network.prefix > $1.network.prefix }
  }

  static func lines(_ url: URL) throws -> [(Int, String)] {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw MinewatchError.usage("\(url.path): cannot read: \(error.localizedDescription)")
    }
    guard data.count <= 64 << 20, !data.contains(0), let text = String(data: data, encoding: .utf8) else {
      throw MinewatchError.usage("\(url.path):1: not a text file of at most 64 MiB")
    }
    return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { i, l in
      let line = l.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        .trimmingCharacters(in: .whitespacesAndNewlines)
      return line.isEmpty ? nil : (i + 1, line)
    }
  }

  public func lookup(_ ip: IPAddress) -> Entry? { entries.first { $0.network.contains(ip) } }
}

extension ScanReport {
  /// Findings per unit of the asset map, as the provinces counted them: hosts, coins, pools,
  /// traffic, hashrate and energy. Hosts outside the map form the unit "(unmapped)".
  public struct Unit: Sendable {
    public var name: String
    public var kind: String?
    public var contact: String?
    public var hosts: [IPAddress]
    public var coins: Set<String>
    public var pools: Set<String>
    public var egressBytes: UInt64
    public var hashrateByAlgorithm: [String: Double]
    public var power: PowerEstimate
  }

  public func units(_ map: AssetMap) -> [Unit] {
    var out: [String: Unit] = [:]
    for h in miningHosts {
      let e = map.lookup(h.ip)
      let name = e?.unit ?? "(unmapped)"
      var u =
        out[name]
        ?? Unit(
          name: name, kind: e?.kind, contact: e?.contact, hosts: [], coins: [], pools: [], egressBytes: 0,
          hashrateByAlgorithm: [:], power: .zero)
      u.hosts.append(h.ip)
      for s in h.sessions where s.isPoolSession {
        if let c = s.coin { u.coins.insert(c) }
        u.pools.insert("\(s.poolIP)")
      }
      // The host's own figures: a reconnecting miner counts once.
      u.egressBytes += h.egressBytes
      u.hashrateByAlgorithm.merge(h.hashrateByAlgorithm, uniquingKeysWith: +)
      if let p = h.power { u.power = u.power + p }
      out[name] = u
    }
    return out.values.sorted { $0.name < $1.name }
  }

}
