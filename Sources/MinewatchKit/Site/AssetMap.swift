import Foundation
import MinewatchCore

/// Which unit of the organisation an address belongs to: CIDR → unit, contact, class. The
/// longest matching prefix wins, so a lab's /24 can sit inside its faculty's /16.
///
/// A sensor fed by several tenants' mirrors (cloud VNIs, ERSPAN sessions, MPLS VPN labels) sees
/// the same private ranges in each. An entry's optional fifth column names the tunnels that
/// carry its tenant's traffic (`vxlan:5001`, several separated by spaces); the engine then
/// keeps that tenant's flows and hosts apart from everyone else's, and the entry matches only
/// that tenant's addresses. Entries with the same tunnels are one tenant.
public struct AssetMap: Sendable {
  public struct Entry: Sendable, Equatable {
    public let network: CIDR
    public let unit: String
    public let contact: String?
    public let kind: String  // research, servers, labs, dorms, offices, …
    /// 0: the sensor's own address space; else the tenant whose tunnels the entry names.
    public var tenant: UInt16 = 0
  }

  public private(set) var entries: [Entry] = []
  /// Each tenant's tunnels, as written ("vxlan:5001 vxlan:5002"), by tenant number - 1.
  public private(set) var tenants: [String] = []
  /// The tunnel → tenant rules the engine keys flows and hosts by.
  public private(set) var tenantRules: [(kind: UInt8, id: UInt32, tenant: UInt16)] = []

  public init() {}

  /// The engine's limit on tunnel rules (MW_TENANT_RULES_MAX), enforced when the map is read.
  public static let maxTenantTunnels = Int(MW_TENANT_RULES_MAX)

  /// Reads CSV lines `cidr,unit,contact,class[,tunnels]` (`#` comments, blank lines, an optional
  /// header as the first line that is neither, starting with "cidr"); a bad line is an error
  /// naming file:line.
  public init(csv url: URL) throws {
    let path = url.path
    var tenantOfTunnel: [String: UInt16] = [:]
    for (i, (n, raw)) in try Self.lines(url).enumerated() {
      let f = raw.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      if i == 0 && f.first?.lowercased() == "cidr" { continue }  // the header, after any comments
      guard f.count == 4 || f.count == 5 else {
        throw MinewatchError.usage("\(path):\(n): expected cidr,unit,contact,class[,tunnels]")
      }
      guard let net = CIDR(f[0]) else {
        throw MinewatchError.usage("\(path):\(n): '\(f[0])' is not a CIDR network")
      }
      guard !f[1].isEmpty else { throw MinewatchError.usage("\(path):\(n): the unit is empty") }
      guard !f[3].isEmpty, f[3].allSatisfy({ $0.isLetter || $0 == "-" || $0 == "_" }) else {
        throw MinewatchError.usage(
          "\(path):\(n): class '\(f[3])' must be a word (research, servers, labs, dorms, …)")
      }
      var entry = Entry(network: net, unit: f[1], contact: f[2].isEmpty ? nil : f[2], kind: f[3].lowercased())
      if f.count == 5 && !f[4].isEmpty {
        entry.tenant = try tenant(of: f[4], known: &tenantOfTunnel, at: "\(path):\(n)")
      }
      entries.append(entry)
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

  /// The tenant an entry's tunnels name: a new one, or the one an earlier entry named with the
  /// same tunnels. A tunnel may belong to one tenant only.
  private mutating func tenant(of text: String, known: inout [String: UInt16], at place: String) throws
    -> UInt16
  {
    var tunnels: [(kind: UInt8, id: UInt32, text: String)] = []
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
      guard let t = Self.tunnel(String(word)) else {
        throw MinewatchError.usage(
          "\(place): '\(word)' is not a tunnel (kind:id, kind one of \(Self.tunnelKinds.keys.sorted().joined(separator: ", ")))"
        )
      }
      if !tunnels.contains(where: { $0.text == t.text }) { tunnels.append(t) }
    }
    let name = tunnels.map(\.text).sorted().joined(separator: " ")
    if let i = tenants.firstIndex(of: name) { return UInt16(i + 1) }
    for t in tunnels where known[t.text] != nil {
      throw MinewatchError.usage(
        "\(place): tunnel \(t.text) already belongs to the tenant of \(tenants[Int(known[t.text]!) - 1])")
    }
    guard tenants.count < Int(UInt16.max), tenantRules.count + tunnels.count <= Self.maxTenantTunnels else {
      throw MinewatchError.usage("\(place): more than \(Self.maxTenantTunnels) tenant tunnels")
    }
    tenants.append(name)
    let id = UInt16(tenants.count)
    for t in tunnels {
      known[t.text] = id
      tenantRules.append((t.kind, t.id, id))
    }
    return id
  }

  /// The decoder's names for the tunnels that carry an id worth a tenant.
  static let tunnelKinds: [String: mw_tunnel_kind] = [
    "vlan": MW_TUNNEL_VLAN, "gre": MW_TUNNEL_GRE, "erspan": MW_TUNNEL_ERSPAN, "vxlan": MW_TUNNEL_VXLAN,
    "geneve": MW_TUNNEL_GENEVE, "mpls": MW_TUNNEL_MPLS, "pppoe": MW_TUNNEL_PPPOE, "gtpu": MW_TUNNEL_GTPU,
  ]

  /// `kind:id` as sessions report their tunnel, id decimal.
  static func tunnel(_ text: String) -> (kind: UInt8, id: UInt32, text: String)? {
    let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let kind = tunnelKinds[String(parts[0])], parts[1].allSatisfy(\.isASCII),
      let id = UInt32(parts[1])
    else { return nil }
    return (UInt8(kind.rawValue), id, "\(parts[0]):\(id)")
  }

  /// The entry of an address: the longest prefix among the entries of its own tenant.
  public func lookup(_ ip: IPAddress) -> Entry? {
    entries.first { $0.tenant == ip.tenant && $0.network.contains(ip) }
  }

  /// The tunnels of an address's tenant, nil for the sensor's own address space.
  public func tenantName(_ ip: IPAddress) -> String? {
    ip.tenant == 0 || Int(ip.tenant) > tenants.count ? nil : tenants[Int(ip.tenant) - 1]
  }

  /// What reports and alerts say of an address's place: unit, contact, class and tenant.
  public func fields(_ ip: IPAddress) -> UnitFields {
    let e = lookup(ip)
    return UnitFields(unit: e?.unit, unitContact: e?.contact, assetClass: e?.kind, tenant: tenantName(ip))
  }
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
