import Foundation
import Testing

@testable import MinewatchKit

@Suite struct AssetMapTests {
  func map(_ text: String) throws -> AssetMap {
    let path = Paths.scratch(UUID().uuidString + "-assets.csv")
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return try AssetMap(csv: URL(fileURLWithPath: path))
  }

  static let campus = """
    cidr,unit,contact,class
    # the faculty, then a lab inside it, then one machine room inside that
    147.229.0.0/16, Brno campus, noc@example.edu, offices
    192.168.2.0/24, Physics lab, lab-admin@example.edu, labs
    192.168.2.148/32, GPU room, hpc@example.edu, research
    2001:db8:40::/48, Dormitories, , dorms
    """

  @Test func longestPrefixWinsForIPv4AndIPv6() throws {
    let m = try map(Self.campus)
    #expect(m.lookup(IPAddress("192.168.2.148")!)?.unit == "GPU room")
    #expect(m.lookup(IPAddress("192.168.2.92")!)?.unit == "Physics lab")
    #expect(m.lookup(IPAddress("147.229.13.222")!)?.kind == "offices")
    #expect(m.lookup(IPAddress("2001:db8:40:7::9")!)?.unit == "Dormitories")
    #expect(m.lookup(IPAddress("2001:db8:40:7::9")!)?.contact == nil)
    #expect(m.lookup(IPAddress("2001:db8:41::1")!) == nil)
    #expect(m.lookup(IPAddress("10.0.0.1")!) == nil)
  }

  @Test func badLinesNameFileAndLine() throws {
    for (text, message) in [
      ("10.0.0.0/33,Lab,,labs\n", ":1: '10.0.0.0/33' is not a CIDR network"),
      ("10.0.0.0/8,Lab,labs\n", ":1: expected cidr,unit,contact,class"),
      ("# ok\n10.0.0.0/8,,x,labs\n", ":2: the unit is empty"),
      ("10.0.0.0/8,Lab,x,lab rooms\n", ":1: class 'lab rooms' must be a word"),
    ] {
      do {
        _ = try map(text)
        Issue.record("accepted: \(text)")
      } catch {
        #expect("\(error)".contains(message), "\(error)")
      }
    }
  }

  @Test func reportGroupsByUnit() throws {
    var r = try scan([Paths.capture("public/ndpi_mining.pcapng")])
    r.assets = try map(Self.campus)
    let units = r.units(r.assets!)
    #expect(units.map(\.name) == ["Brno campus", "GPU room", "Physics lab"])
    let gpu = try #require(units.first { $0.name == "GPU room" })
    #expect(gpu.hosts.map { "\($0)" } == ["192.168.2.148"] && gpu.pools.count == 2 && gpu.coins == ["ZEC"])
    #expect(abs((gpu.hashrateByAlgorithm["equihash"] ?? 0) - 689) < 2)
    let doc = try #require(try JSONSerialization.jsonObject(with: r.jsonData()) as? [String: Any])
    let hosts = doc["hosts"] as? [[String: Any]] ?? []
    #expect(hosts.first { $0["ip"] as? String == "192.168.2.92" }?["unit"] as? String == "Physics lab")
    #expect((doc["units"] as? [[String: Any]])?.count == 3)
    let validator = try SchemaValidator(
      url: Paths.repo.appendingPathComponent("Tests/Fixtures/scan-report.schema.json"))
    #expect(validator.validate(doc) == [])
  }
}
