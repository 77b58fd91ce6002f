import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// A sensor fed by two tenants' cloud mirrors sees the same private addresses in each: the asset
/// map's tunnel column keeps them apart — two hosts, two units — while a tenant whose mirror
/// sends each direction on its own VNI still gives one flow.
@Suite struct TenantTests {
  static let capture = "miners/xmr_rx0_plain_eth.pcap"
  static let client: [UInt8] = [10, 31, 7, 25]

  static let tenantsMap = """
    cidr,unit,contact,class,tunnels
    # tenant A mirrors client-to-server traffic on VNI 5001 and the answers on VNI 5003
    10.0.0.0/8, Tenant A labs, noc@a.example, labs, vxlan:5001 vxlan:5003
    10.31.7.0/24, Tenant A GPU room, gpu@a.example, research, vxlan:5003 vxlan:5001
    10.0.0.0/8, Tenant B servers, noc@b.example, servers, vxlan:5002
    192.0.2.0/24, Sensor's own net, , offices
    """

  /// The real miner capture twice at the same moments, once per tenant: every frame of tenant
  /// A through VNI 5001 (to the pool) or 5003 (back), every frame of tenant B through 5002.
  func twoTenants(_ w: PcapWriter) throws {
    let records = try readPcapRecords(Paths.capture(Self.capture))
    for (i, (ts, frame)) in records.enumerated() where frame.count > 30 {
      let outbound = Array(frame[26..<30]) == Self.client
      let a = Encapsulation.vxlan(vni: outbound ? 5001 : 5003).wrap(frame, sequence: UInt32(i))
      let b = Encapsulation.vxlan(vni: 5002).wrap(frame, sequence: UInt32(i))
      if let a { w.write(frame: a, timeNs: ts) }
      if let b { w.write(frame: b, timeNs: ts) }
    }
  }

  @Test func sameAddressesOfTwoTenantsAreTwoHosts() throws {
    let bare = try scan([Paths.capture(Self.capture)])
    let bareSessions = EncapsulationTests.summary(bare).filter { !$0.hasPrefix("host ") }
    #expect(bareSessions.count == 1)

    var site = SiteSettings()
    site.assets = try scratchFile("tenants.csv", Self.tenantsMap)
    let (r, _) = try scanForged("two-tenants.pcap", site: site) { try! twoTenants($0) }
    let miners = r.miningHosts.sorted { $0.ip < $1.ip }
    #expect(miners.map { "\($0.ip)" } == ["10.31.7.25", "10.31.7.25"])
    #expect(Set(miners.map(\.ip.tenant)) == [1, 2])
    // Each tenant's host has exactly the bare session: same ends, shares, hashrate, login.
    for h in miners {
      #expect(h.sessions.count == 1)
      #expect(EncapsulationTests.sessionLines(h) == bareSessions)
    }
    let a = try #require(miners.first { $0.ip.tenant == 1 })
    let b = try #require(miners.first { $0.ip.tenant == 2 })
    #expect(a.sessions[0].tunnel == "vxlan:5001" || a.sessions[0].tunnel == "vxlan:5003")
    #expect(b.sessions[0].tunnel == "vxlan:5002")
    // The pool is the same public address in both tenants; tunnel endpoints are never hosts.
    #expect(!r.hosts.contains { "\($0.ip)".hasPrefix("198.51.100.") })

    // Units: the longest prefix within the host's own tenant.
    let doc = try #require(try JSONSerialization.jsonObject(with: r.jsonData()) as? [String: Any])
    let hosts = (doc["hosts"] as? [[String: Any]] ?? []).filter { $0["role"] as? String == "miner" }
    let units = hosts.map { "\($0["unit"] as? String ?? "-") | \($0["tenant"] as? String ?? "-")" }.sorted()
    #expect(units == ["Tenant A GPU room | vxlan:5001 vxlan:5003", "Tenant B servers | vxlan:5002"])
    let validator = try SchemaValidator(
      url: Paths.repo.appendingPathComponent("Tests/Fixtures/scan-report.schema.json"))
    #expect(validator.validate(doc) == [])
    #expect(r.units(r.assets!).map(\.name) == ["Tenant A GPU room", "Tenant B servers"])
    let table = r.table()
    #expect(table.contains("tenant  vxlan:5001 vxlan:5003") && table.contains("tenant  vxlan:5002"))

    // Without the tenants' tunnels the two copies are one flow of one host: what the column is for.
    let merged = try scanForged("two-tenants-merged.pcap") { try! twoTenants($0) }
    #expect(merged.miningHosts.count == 1 && merged.miningHosts[0].sessions.count == 1)
  }

  @Test func tunnelColumnErrorsNameFileAndLine() throws {
    for (text, message) in [
      ("10.0.0.0/8,A,,labs,vxlan\n", ":1: 'vxlan' is not a tunnel (kind:id"),
      ("10.0.0.0/8,A,,labs,wormhole:5\n", ":1: 'wormhole:5' is not a tunnel"),
      ("10.0.0.0/8,A,,labs,vxlan:-1\n", ":1: 'vxlan:-1' is not a tunnel"),
      (
        "10.0.0.0/8,A,,labs,vxlan:1 vxlan:2\n10.0.0.0/8,B,,labs,vxlan:2\n",
        ":2: tunnel vxlan:2 already belongs to the tenant of vxlan:1 vxlan:2"
      ),
      ("10.0.0.0/8,A,,labs,vxlan:1,extra\n", ":1: expected cidr,unit,contact,class[,tunnels]"),
    ] {
      let path = try scratchFile("bad-tenants.csv", text)
      #expect(throws: MinewatchError.self) { try AssetMap(csv: URL(fileURLWithPath: path)) }
      do {
        _ = try AssetMap(csv: URL(fileURLWithPath: path))
      } catch {
        #expect("\(error)".contains(message), "\(error)")
      }
    }
  }

  /// The README's limit: 4,096 tenant tunnels, enforced when the map is read.
  @Test func tenantTunnelLimitIsEnforced() throws {
    func map(_ n: Int) throws -> AssetMap {
      let lines = (0..<n).map { "10.0.0.0/8,T\($0),,labs,vxlan:\($0)" }
      return try AssetMap(
        csv: URL(fileURLWithPath: try scratchFile("many.csv", lines.joined(separator: "\n"))))
    }
    let full = try map(AssetMap.maxTenantTunnels)
    #expect(full.tenants.count == 4096 && full.tenantRules.count == 4096)
    let scanner = try Scanner(signatures: loadSignatures())
    try scanner.pipeline.useAssets(full)
    do {
      _ = try map(AssetMap.maxTenantTunnels + 1)
      Issue.record("4,097 tunnels accepted")
    } catch {
      #expect("\(error)".contains(":4097: more than 4096 tenant tunnels"), "\(error)")
    }
    // The core refuses what the map would never hand it.
    #expect(throws: MinewatchError.self) {
      try scanner.pipeline.engine.setTenants([(4, 1, 1), (4, 1, 2)])
    }
    #expect(throws: MinewatchError.self) { try scanner.pipeline.engine.setTenants([(4, 1, 0)]) }
  }
}
