import Foundation

/// The `minewatch scan --format json` document (schema: Tests/Fixtures/scan-report.schema.json),
/// written and read as typed records.
public struct ScanDocument: Codable, Sendable, Equatable {
  public struct Capture: Codable, Sendable, Equatable {
    public var files: [String]
    public var packets: UInt64
    public var bytes: UInt64
    @Nullable public var start: String?
    @Nullable public var end: String?
    public var durationS: Double
    public var warnings: [String]
    enum CodingKeys: String, CodingKey {
      case files, packets, bytes, start, end, warnings
      case durationS = "duration_s"
    }
  }

  public struct Factors: Codable, Sendable, Equatable {
    public var coalKgPerKwh: Double
    public var co2KgPerKwh: Double
    enum CodingKeys: String, CodingKey {
      case coalKgPerKwh = "coal_kg_per_kwh"
      case co2KgPerKwh = "co2_kg_per_kwh"
    }
  }

  public struct Totals: Codable, Sendable, Equatable {
    public var hosts: Int
    public var proxies: Int
    public var browserMinerHosts: Int
    public var lookupOnlyHosts: Int
    public var pools: Int
    public var sessions: Int
    public var egressBytes: UInt64
    @Nullable public var egressMbps: Double?
    public var hashrateHpsByAlgorithm: [String: Double]
    public var powerKw: Double
    public var powerKwLow: Double
    public var powerKwHigh: Double
    public var energyKwhPerDay: Double
    public var energyKwhPerYear: Double
    public var coalKgPerDay: Double
    public var co2KgPerDay: Double
    public var energyFactors: Factors
    enum CodingKeys: String, CodingKey {
      case hosts, proxies, pools, sessions
      case browserMinerHosts = "browser_miner_hosts"
      case lookupOnlyHosts = "lookup_only_hosts"
      case egressBytes = "egress_bytes"
      case egressMbps = "egress_mbps"
      case hashrateHpsByAlgorithm = "hashrate_hps_by_algorithm"
      case powerKw = "power_kw"
      case powerKwLow = "power_kw_low"
      case powerKwHigh = "power_kw_high"
      case energyKwhPerDay = "energy_kwh_per_day"
      case energyKwhPerYear = "energy_kwh_per_year"
      case coalKgPerDay = "coal_kg_per_day"
      case co2KgPerDay = "co2_kg_per_day"
      case energyFactors = "energy_factors"
    }
  }

  public struct Unit: Codable, Sendable, Equatable {
    public var unit: String
    @Nullable public var `class`: String?
    @Nullable public var contact: String?
    public var hosts: Int
    public var hostIPs: [String]
    public var coins: [String]
    public var pools: Int
    public var egressBytes: UInt64
    @Nullable public var egressMbps: Double?
    public var hashrateHpsByAlgorithm: [String: Double]
    public var powerKw: Double
    public var energyKwhPerDay: Double
    enum CodingKeys: String, CodingKey {
      case unit, `class`, contact, hosts, coins, pools
      case hostIPs = "host_ips"
      case egressBytes = "egress_bytes"
      case egressMbps = "egress_mbps"
      case hashrateHpsByAlgorithm = "hashrate_hps_by_algorithm"
      case powerKw = "power_kw"
      case energyKwhPerDay = "energy_kwh_per_day"
    }
  }

  /// Which sensor or machine scanned (many scans add up in `minewatch report` by it).
  public var sensor: String?
  public var anomalies: [String: UInt64]
  public var capture: Capture
  public var totals: Totals
  public var units: [Unit]?
  public var hosts: [HostRecord]
}

extension ScanReport {
  var captureRecord: ScanDocument.Capture {
    ScanDocument.Capture(
      files: capture.files, packets: capture.packets, bytes: capture.bytes,
      start: capture.packets > 0 ? Self.iso8601(capture.startNs) : nil,
      end: capture.packets > 0 ? Self.iso8601(capture.endNs) : nil, durationS: capture.durationSeconds,
      warnings: capture.warnings)
  }

  var totalsRecord: ScanDocument.Totals {
    ScanDocument.Totals(
      hosts: miningHosts.count, proxies: hosts(.proxy), browserMinerHosts: hosts(.browserMiner),
      lookupOnlyHosts: hosts(.lookup), pools: pools.count,
      sessions: miningHosts.reduce(0) { $0 + $1.sessions.count }, egressBytes: egressBytesToPools,
      egressMbps: egressMbps, hashrateHpsByAlgorithm: hashrateByAlgorithm, powerKw: power.watts / 1000,
      powerKwLow: power.low / 1000, powerKwHigh: power.high / 1000, energyKwhPerDay: power.kWhPerDay,
      energyKwhPerYear: power.kWhPerYear, coalKgPerDay: power.kWhPerDay * factors.coalKgPerKWh,
      co2KgPerDay: power.kWhPerDay * factors.co2KgPerKWh,
      energyFactors: .init(coalKgPerKwh: factors.coalKgPerKWh, co2KgPerKwh: factors.co2KgPerKWh))
  }

  func unitRecords(_ map: AssetMap) -> [ScanDocument.Unit] {
    units(map).map { u in
      ScanDocument.Unit(
        unit: u.name, class: u.kind, contact: u.contact, hosts: u.hosts.count,
        hostIPs: u.hosts.map { "\($0)" },
        coins: u.coins.sorted(), pools: u.pools.count, egressBytes: u.egressBytes,
        egressMbps: mbps(u.egressBytes),
        hashrateHpsByAlgorithm: u.hashrateByAlgorithm, powerKw: u.power.watts / 1000,
        energyKwhPerDay: u.power.kWhPerDay)
    }
  }

  func hostRecord(_ h: Host) -> HostRecord {
    HostRecord(h, unit: assets.map { $0.fields(h.ip) })
  }
}
