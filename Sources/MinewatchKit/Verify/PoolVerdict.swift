import Foundation

/// The protocol families a verification probe speaks: the logins of the miners a pool serves.
public enum PoolFamily: String, Codable, Sendable, CaseIterable {
  /// XMRig-style JSON-RPC `login` (Monero and the other CryptoNote/RandomX coins).
  case cryptonote
  /// Stratum V1 `mining.subscribe` + `mining.authorize` (Bitcoin family, NiceHash ETH stratum).
  case stratum
  /// ETH proxy `eth_submitLogin` + `eth_getWork` (ethminer, Claymore, eth-proxy).
  case ethProxy = "eth-proxy"
}

/// What one probe (one connection, one family, plain or TLS) met.
public struct ProbeRecord: Codable, Sendable, Equatable {
  public var family: PoolFamily
  public var tls: Bool
  /// `pool`, `not-pool`, `silent` (connected, no answer), `tls-only` (the plain probe met a TLS
  /// server), or `failed` (no connection).
  public var outcome: String
  public var detail: String
  public var milliseconds: Int
}

/// A verification's verdict on one endpoint, as cached, persisted, alerted and printed.
public struct PoolVerdict: AlertBody, Equatable {
  public enum Status: String, Codable, Sendable, CaseIterable {
    case pool
    case notPool = "not-pool"
    case unreachable
  }

  public var ip: IPAddress
  public var port: UInt16
  public var status: Status
  public var family: PoolFamily?
  public var tls: Bool?
  /// What made it a pool: `job`, `notify`, `subscribe`, `work` or `error` (an error in a pool's
  /// words); or why not.
  public var reason: String
  /// The pool's algorithm label as it gave it ("rx/0", "ethash"), when it did.
  public var algorithm: String?
  /// The starting share difficulty it gave a new miner (pools raise it per miner later).
  public var difficulty: Double?
  /// Hashes per share at that difficulty, where the family defines it without the algorithm.
  public var hashesPerShare: Double?
  /// The first answer's first bytes, printable (what an investigator will want to see).
  public var answer: String?
  public var certificate: String?
  @ISODate public var checkedAt: Date
  @ISODate public var expiresAt: Date
  public var probes: [ProbeRecord]

  enum CodingKeys: String, CodingKey {
    case ip, port, status, family, tls, reason, algorithm, difficulty, probes, answer, certificate
    case hashesPerShare = "hashes_per_share"
    case checkedAt = "checked_at"
    case expiresAt = "expires_at"
  }

  public var endpoint: String { Self.endpoint(ip, port) }

  /// When it was checked, as the reports write time.
  public var checkedAtText: String { ISODate.text(checkedAt) }

  public static func endpoint(_ ip: IPAddress, _ port: UInt16) -> String {
    ip.family == 6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
  }

  /// One line for a terminal or a log.
  public var summary: String {
    var parts = ["\(endpoint) \(status.rawValue)"]
    if let family { parts.append("family \(family.rawValue)\(tls == true ? " over TLS" : "")") }
    parts.append(reason)
    if let algorithm { parts.append("algorithm \(algorithm)") }
    if let difficulty { parts.append("starting difficulty \(Self.number(difficulty))") }
    return parts.joined(separator: ", ")
  }

  static func number(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.4g", v)
  }
}

extension IPAddress: Codable {
  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    let text = try c.decode(String.self)
    guard let ip = IPAddress(text) else {
      throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an IP address: \(text)")
    }
    self = ip
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}

/// `ADDR:PORT`, `[V6]:PORT` (or `V6:PORT`: the port follows the last colon); the one parser of
/// endpoints, for `verify`, `metrics_listen` and syslog targets.
public func parseEndpoint(_ text: String) -> (IPAddress, UInt16)? {
  guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0
  else { return nil }
  var host = Substring(text[..<colon])
  if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
  guard let ip = IPAddress(String(host)) else { return nil }
  return (ip, port)
}

/// A date as the reports write time: ISO 8601, UTC, milliseconds.
@propertyWrapper
public struct ISODate: Codable, Sendable, Equatable {
  public var wrappedValue: Date

  public init(wrappedValue: Date) { self.wrappedValue = wrappedValue }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    let text = try c.decode(String.self)
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let d = f.date(from: text) ?? ISO8601DateFormatter().date(from: text) {
      wrappedValue = d
    } else {
      throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 time: \(text)")
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(Self.text(wrappedValue))
  }

  static func text(_ d: Date) -> String {
    ScanReport.iso8601(UInt64(max(0, (d.timeIntervalSince1970 * 1000).rounded())) * 1_000_000)
  }
}
