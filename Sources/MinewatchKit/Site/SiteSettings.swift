import Foundation

/// What a site configures for both `scan` and the daemon: its asset map, energy factors, how the
/// kind of mining is judged, and the evidence kept. Keys of the config file (systemd/
/// minewatch.conf documents each).
public struct SiteSettings: Sendable, Equatable {
  /// Asset map CSV (cidr,unit,contact,class).
  public var assets: String?
  public var factors = EnergyFactors()
  public var kind = KindRules()
  public var probeWindowSeconds: UInt32 = 600
  public var evidence = EvidenceSettings()

  public init() {}

  /// `300`, `5m`, `1h`: seconds.
  public static func seconds(_ v: String) -> Int? {
    let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    guard let u = v.last, let k = units[u] else { return Int(v) }
    guard let n = Int(v.dropLast()) else { return nil }
    let (seconds, overflow) = n.multipliedReportingOverflow(by: k)  // a hostile figure is refused
    return overflow ? nil : seconds
  }

  /// Sets a key this struct owns and returns true; false for any other key.
  public mutating func set(_ key: String, _ value: String) throws -> Bool {
    func number(_ range: ClosedRange<Double>) throws -> Double {
      guard let v = Double(value), v.isFinite, range.contains(v) else {
        throw MinewatchError.usage(
          "\(key): '\(value)' is not a number in \(range.lowerBound)...\(range.upperBound)")
      }
      return v
    }
    func int(_ range: ClosedRange<Int>) throws -> Int {
      guard let v = Int(value), range.contains(v) else {
        throw MinewatchError.usage(
          "\(key): '\(value)' is not a whole number in \(range.lowerBound)...\(range.upperBound)")
      }
      return v
    }
    func duration(_ range: ClosedRange<Int>) throws -> Int {
      guard let s = Self.seconds(value), range.contains(s) else {
        throw MinewatchError.usage(
          "\(key): '\(value)' is not a duration from \(range.lowerBound)s to \(range.upperBound)s (e.g. 600, 10m)"
        )
      }
      return s
    }
    func words() throws -> Set<String> {
      let list = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
      guard
        list.allSatisfy({
          !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        })
      else { throw MinewatchError.usage("\(key): '\(value)' is not a comma-separated list of words") }
      return Set(list)
    }
    func ports() throws -> [UInt16] {
      if value.isEmpty { return [] }
      return try value.split(separator: ",").map {
        let t = $0.trimmingCharacters(in: .whitespaces)
        guard let p = UInt16(t), p > 0 else { throw MinewatchError.usage("\(key): '\(t)' is not a port") }
        return p
      }
    }
    switch key {
    case "assets": assets = value.isEmpty ? nil : value
    case "coal_kg_per_kwh": factors.coalKgPerKWh = try number(0...100)
    case "co2_kg_per_kwh": factors.co2KgPerKWh = try number(0...100)
    case "research_classes": kind.researchClasses = try words()
    case "server_classes": kind.serverClasses = try words()
    case "cpu_algorithms": kind.cpuAlgorithms = try words()
    case "login_ports": kind.loginPorts = try ports()
    case "login_window": kind.loginWindowSeconds = Double(try duration(1...86_400))
    case "probe_ports": kind.probePorts = try ports()
    case "probe_targets": kind.probeTargets = try int(1...100_000)
    case "probe_window": probeWindowSeconds = UInt32(try duration(10...86_400))
    case "evidence_dir": evidence.directory = value.isEmpty ? nil : value
    case "evidence_packets": evidence.packets = try int(1...100_000)
    case "evidence_lines": evidence.lines = try int(0...100_000)
    case "evidence_seconds": evidence.seconds = UInt64(try duration(1...604_800))
    case "evidence_file_max_kib": evidence.maxFileBytes = try int(4...1_048_576) * 1024
    case "evidence_max_mib": evidence.maxTotalBytes = Int64(try int(1...16_777_216)) << 20
    case "evidence_open_files": evidence.maxOpenFiles = try int(1...65_536)
    default: return false
    }
    return true
  }

  public func apply(to limits: inout EngineLimits) { limits.probeWindowSeconds = probeWindowSeconds }

  /// Loads the asset map, sets the rules and starts the evidence recorder; errors are one line.
  public func apply(to pipeline: Pipeline) throws {
    try pipeline.useAssets(assets.map { try AssetMap(csv: URL(fileURLWithPath: $0)) })
    pipeline.kindRules = kind
    if evidence.directory != nil { try pipeline.recordEvidence(evidence) }
  }
}
