import Foundation
import MinewatchCore

/// An IPv4 or IPv6 address as the C core hands it over (family + 16 bytes), in the address
/// space of a tenant when the asset map says which tunnel carries whose traffic: 10.0.0.5 of
/// one tenant is another host than 10.0.0.5 of the next (equality and hashing say so), though
/// both print as 10.0.0.5 (reports name the tenant beside it).
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let family: UInt8
  public let bytes: [UInt8]
  /// 0: the sensor's own address space; else the asset map's tenant number.
  public let tenant: UInt16

  public init(family: UInt8, bytes: [UInt8], tenant: UInt16 = 0) {
    self.family = family
    self.bytes = Array(bytes.prefix(family == 4 ? 4 : 16))
    self.tenant = tenant
  }

  init(_ ep: mw_endpoint) {
    var addr = ep.addr
    let all = withUnsafeBytes(of: &addr) { Array($0) }
    self.init(family: ep.family, bytes: all, tenant: ep.tenant)
  }

  /// The address alone: for what is the same in every tenant's space (a public pool's listed
  /// or verified address).
  public var withoutTenant: IPAddress { tenant == 0 ? self : IPAddress(family: family, bytes: bytes) }

  /// Parses dotted IPv4 or textual IPv6.
  public init?(_ text: String) {
    var v4 = in_addr()
    var v6 = in6_addr()
    if inet_pton(AF_INET, text, &v4) == 1 {
      self.init(family: 4, bytes: withUnsafeBytes(of: &v4) { Array($0) })
    } else if inet_pton(AF_INET6, text, &v6) == 1 {
      self.init(family: 6, bytes: withUnsafeBytes(of: &v6) { Array($0) })
    } else {
      return nil
    }
  }

  public var description: String {
    var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    var raw = bytes
    let af = family == 4 ? AF_INET : AF_INET6
    _ = inet_ntop(af, &raw, &out, socklen_t(out.count))
    return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
    if lhs.family != rhs.family { return lhs.family < rhs.family }
    if lhs.bytes != rhs.bytes { return lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
    return lhs.tenant < rhs.tenant
  }
}
