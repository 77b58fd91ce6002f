/// An IPv4 or IPv6 network in CIDR notation.
public struct CIDR: Sendable, Equatable, CustomStringConvertible {
  public let network: IPAddress
  public let prefix: Int

  public init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count <= 2, let ip = IPAddress(String(parts[0])) else { return nil }
    let maxPrefix = ip.family == 4 ? 32 : 128
    let p = parts.count == 2 ? Int(parts[1]) : maxPrefix
    guard let p, (0...maxPrefix).contains(p) else { return nil }
    network = ip
    prefix = p
  }

  public func contains(_ ip: IPAddress) -> Bool {
    guard ip.family == network.family else { return false }
    var bits = prefix
    for (a, b) in zip(ip.bytes, network.bytes) {
      if bits <= 0 { return true }
      let mask: UInt8 = bits >= 8 ? 0xff : UInt8(0xff << (8 - bits) & 0xff)
      if a & mask != b & mask { return false }
      bits -= 8
    }
    return true
  }

  public var description: String { "\(network)/\(prefix)" }

  /// RFC 1918, RFC 6598, IPv6 unique local: the default internal networks.
  public static let privateRanges = [
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7",
  ]
  .compactMap(CIDR.init)
}
