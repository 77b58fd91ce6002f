import Foundation
import MinewatchCore
import MinewatchKit

/// Everything `minewatch run` takes, from the config file and the command line (the command
/// line wins). The sample with every key documented is systemd/minewatch.conf.
public struct DaemonConfig: Sendable, Equatable {
  public enum SyslogTarget: Sendable, Equatable {
    case none
    case unix(path: String)
    case udp(host: String, port: UInt16)
    case tcp(host: String, port: UInt16)
  }

  public enum SyslogFormat: String, Sendable { case rfc5424, rfc3164 }

  public var interface: String?
  public var filter: String?
  public var snaplen = 4096
  public var bufferMiB = 64
  public var promiscuous = true
  public var immediate = false
  /// Capture threads: above 1, that many handles in one PACKET_FANOUT group, one engine.
  public var workers = 1
  public var internalNetworks: [CIDR] = CIDR.privateRanges
  public var signatures: String?
  public var summaryIntervalSeconds = 300
  /// The host table forgets a host idle this long (packet time) with nothing open.
  public var hostRetentionSeconds = 86_400
  public var syslog: SyslogTarget = .unix(path: "/dev/log")
  public var syslogFormat: SyslogFormat = .rfc5424
  public var syslogFacility = 16  // local0
  public var syslogIdent = "minewatch"
  public var jsonLog: String?
  public var metricsListen: String?
  public var user: String?
  public var updateThreshold = 0.25
  public var queueLimit = 10_000
  public var flowCapacity: UInt32 = 1 << 18
  /// The sensor's name in every alert and metric (nil: the host name).
  public var sensor: String?

  /// The name alerts and metrics carry: `sensor`, else this machine's host name.
  public var sensorName: String { sensor ?? Self.hostName }

  /// This machine's host name (syslog's HOSTNAME, the default sensor name).
  static var hostName: String {
    var name = [CChar](repeating: 0, count: 256)
    gethostname(&name, name.count)
    return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
  /// Active verification of suspect endpoints (off by default: it contacts them).
  public var verify = false
  public var verifySettings = VerifySettings()
  /// Where verdicts persist across restarts (nil: memory only).
  public var verifyVerdicts: String? = "/var/lib/minewatch/verdicts.json"
  /// Endpoints in these networks are never contacted.
  public var verifyExclude: [CIDR] = []
  /// Asset map, energy factors, kind rules and evidence: shared with `scan --config`.
  public var site = SiteSettings()

  public init() {}

  static let facilities: [String: Int] = [
    "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
    "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "local0": 16, "local1": 17, "local2": 18,
    "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
  ]

  /// Reads `key = value` lines (`#` comments); the first bad line is an error naming file:line.
  public static func load(path: String, onto base: DaemonConfig = DaemonConfig()) throws -> DaemonConfig {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw MinewatchError.usage("\(path): cannot read: \(error.localizedDescription)")
    }
    guard data.count <= 1 << 20, !data.contains(0), let text = String(data: data, encoding: .utf8) else {
      throw MinewatchError.usage("\(path):1: not a text file of at most 1 MiB")
    }
    var config = base
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        .trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty { continue }
      guard let eq = line.firstIndex(of: "=") else {
        throw MinewatchError.usage("\(path):\(i + 1): expected 'key = value'")
      }
      let key = line[..<eq].trimmingCharacters(in: .whitespaces)
      let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
      do {
        try config.set(key, value)
      } catch let e as MinewatchError {
        throw MinewatchError.usage("\(path):\(i + 1): \(e.description)")
      }
    }
    return config
  }

  /// Sets one key; the message of the error says what is wrong with the value.
  public mutating func set(_ key: String, _ value: String) throws {
    func bool() throws -> Bool {
      switch value.lowercased() {
      case "yes", "true", "on", "1": return true
      case "no", "false", "off", "0": return false
      default: throw MinewatchError.usage("\(key): '\(value)' is not yes or no")
      }
    }
    func int(_ range: ClosedRange<Int>) throws -> Int {
      guard let v = Int(value), range.contains(v) else {
        throw MinewatchError.usage(
          "\(key): '\(value)' is not a whole number in \(range.lowerBound)...\(range.upperBound)")
      }
      return v
    }
    switch key {
    case "interface": interface = value.isEmpty ? nil : value
    case "filter": filter = value.isEmpty ? nil : value
    case "snaplen": snaplen = try int(256...262_144)
    case "buffer_mib": bufferMiB = try int(1...4096)
    case "promiscuous": promiscuous = try bool()
    case "immediate": immediate = try bool()
    case "workers": workers = try int(1...Int(MW_LIVE_WORKERS_MAX))
    case "internal_networks":
      internalNetworks = try value.split(separator: ",").map {
        let t = $0.trimmingCharacters(in: .whitespaces)
        guard let c = CIDR(t) else { throw MinewatchError.usage("\(key): '\(t)' is not a CIDR network") }
        return c
      }
    case "signatures": signatures = value
    case "summary_interval":
      guard let s = SiteSettings.seconds(value), (10...86_400).contains(s) else {
        throw MinewatchError.usage("\(key): '\(value)' is not a duration from 10s to 24h (e.g. 300, 5m, 1h)")
      }
      summaryIntervalSeconds = s
    case "host_retention":
      guard let s = SiteSettings.seconds(value), (60...31_536_000).contains(s) else {
        throw MinewatchError.usage(
          "\(key): '\(value)' is not a duration from 1m to 365d (e.g. 86400, 24h, 30d)")
      }
      hostRetentionSeconds = s
    case "syslog": syslog = try Self.syslogTarget(value)
    case "syslog_format":
      guard let f = SyslogFormat(rawValue: value.lowercased()) else {
        throw MinewatchError.usage("\(key): '\(value)' is not rfc5424 or rfc3164")
      }
      syslogFormat = f
    case "syslog_facility":
      guard let f = Self.facilities[value.lowercased()] else {
        throw MinewatchError.usage("\(key): '\(value)' is not a syslog facility (daemon, local0 … local7, …)")
      }
      syslogFacility = f
    case "syslog_ident":
      guard !value.isEmpty, value.count <= 48, value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
        throw MinewatchError.usage("\(key): '\(value)' must be 1 to 48 printable ASCII characters")
      }
      syslogIdent = value
    case "json_log": jsonLog = value.isEmpty ? nil : value
    case "metrics_listen":
      guard value.isEmpty || Self.hostPort(value) != nil else {
        throw MinewatchError.usage("\(key): '\(value)' is not ADDRESS:PORT")
      }
      metricsListen = value.isEmpty ? nil : value
    case "user": user = value.isEmpty ? nil : value
    case "update_threshold":
      guard let v = Double(value), v > 0, v <= 10 else {
        throw MinewatchError.usage("\(key): '\(value)' is not a relative change above 0 (0.25 is 25 %)")
      }
      updateThreshold = v
    case "queue_limit": queueLimit = try int(10...10_000_000)
    case "flow_capacity": flowCapacity = UInt32(try int(1024...16_777_216))
    case "sensor" where value.isEmpty: sensor = nil
    case "sensor":
      guard (1...64).contains(value.count),
        value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
      else {
        throw MinewatchError.usage("\(key): '\(value)' must be 1 to 64 letters, digits, '-', '_' or '.'")
      }
      sensor = value
    case "verify": verify = try bool()
    case "verify_source":
      guard value.isEmpty || IPAddress(value) != nil else {
        throw MinewatchError.usage("\(key): '\(value)' is not an IP address of this machine")
      }
      verifySettings.source = value.isEmpty ? nil : IPAddress(value)
    case "verify_timeout":
      guard let v = Double(value), (0.5...30).contains(v) else {
        throw MinewatchError.usage("\(key): '\(value)' is not 0.5 to 30 seconds")
      }
      verifySettings.timeoutSeconds = v
    case "verify_per_minute": verifySettings.perMinute = try int(1...60)
    case "verify_login":
      guard (1...128).contains(value.count), value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
        throw MinewatchError.usage("\(key): '\(value)' must be 1 to 128 printable ASCII characters")
      }
      verifySettings.login = value
    case "verify_tls":
      guard let m = VerifySettings.TLSMode(rawValue: value) else {
        throw MinewatchError.usage("\(key): '\(value)' is not auto, yes or no")
      }
      verifySettings.tls = m
    case "verify_verdicts": verifyVerdicts = value.isEmpty ? nil : value
    case "verify_exclude":
      verifyExclude = try value.split(separator: ",").map {
        let t = $0.trimmingCharacters(in: .whitespaces)
        guard let c = CIDR(t) else { throw MinewatchError.usage("\(key): '\(t)' is not a network (CIDR)") }
        return c
      }
    default:
      guard try site.set(key, value) else { throw MinewatchError.usage("unknown key '\(key)'") }
    }
  }

  static func hostPort(_ v: String) -> (String, UInt16)? {
    parseEndpoint(v).map { ("\($0.0)", $0.1) }
  }

  static func syslogTarget(_ v: String) throws -> SyslogTarget {
    if v == "none" { return .none }
    if v == "local" { return .unix(path: "/dev/log") }
    if v.hasPrefix("unix:") { return .unix(path: String(v.dropFirst(5))) }
    for (scheme, make) in [("udp://", SyslogTarget.udp), ("tcp://", SyslogTarget.tcp)]
    where v.hasPrefix(scheme) {
      guard let (h, p) = hostPort(String(v.dropFirst(scheme.count))) else {
        throw MinewatchError.usage(
          "syslog: '\(v)' needs a numeric address and port, e.g. udp://192.0.2.5:514")
      }
      return make(h, p)
    }
    throw MinewatchError.usage(
      "syslog: '\(v)' is not local, none, unix:PATH, udp://ADDR:PORT or tcp://ADDR:PORT")
  }
}
