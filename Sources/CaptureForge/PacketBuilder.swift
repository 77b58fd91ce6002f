import Foundation

/// An address and port in a forged packet. Addresses come from documentation and private ranges.
public struct Peer: Sendable, Hashable {
  public let address: [UInt8]  // 4 or 16 bytes
  public let port: UInt16

  public init(_ text: String, _ port: UInt16) {
    self.address = Peer.parse(text)
    self.port = port
  }

  public init(address: [UInt8], port: UInt16) {
    self.address = address
    self.port = port
  }

  public var isV6: Bool { address.count == 16 }

  static func parse(_ text: String) -> [UInt8] {
    if text.contains(":") {
      var out = [UInt8](repeating: 0, count: 16)
      var v6 = in6_addr()
      _ = inet_pton(AF_INET6, text, &v6)
      withUnsafeBytes(of: &v6) { for i in 0..<16 { out[i] = $0[i] } }
      return out
    }
    return text.split(separator: ".").map { UInt8($0) ?? 0 }
  }
}

/// Builds IP packets (IPv4 or IPv6) carrying TCP or UDP, wrapped in the writer's link layer.
public enum PacketBuilder {
  public static let fin: UInt8 = 0x01
  public static let syn: UInt8 = 0x02
  public static let rst: UInt8 = 0x04
  public static let psh: UInt8 = 0x08
  public static let ack: UInt8 = 0x10

  public static func tcp(
    link: LinkLayer, from: Peer, to: Peer, seq: UInt32, ack ackNo: UInt32, flags: UInt8,
    payload: [UInt8]
  ) -> [UInt8] {
    var t = be16(from.port) + be16(to.port) + be32(seq) + be32(ackNo)
    t += [0x50, flags] + be16(65535) + [0, 0, 0, 0]
    return ip(link: link, from: from, to: to, proto: 6, l4: t + payload)
  }

  public static func udp(link: LinkLayer, from: Peer, to: Peer, payload: [UInt8]) -> [UInt8] {
    let u = be16(from.port) + be16(to.port) + be16(UInt16(8 + payload.count)) + [0, 0]
    return ip(link: link, from: from, to: to, proto: 17, l4: u + payload)
  }

  public static func ip(link: LinkLayer, from: Peer, to: Peer, proto: UInt8, l4: [UInt8]) -> [UInt8] {
    if from.isV6 {
      let h: [UInt8] = [0x60, 0, 0, 0] + be16(UInt16(l4.count)) + [proto, 64] + from.address + to.address
      return link.header(ipVersion: 6) + h + l4
    }
    var h: [UInt8] = [0x45, 0] + be16(UInt16(20 + l4.count)) + [0, 1, 0x40, 0, 64, proto, 0, 0]
    h += from.address + to.address
    var sum: UInt32 = 0
    for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(h[i]) << 8 | UInt32(h[i + 1]) }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    let c = ~UInt16(sum)
    h[10] = UInt8(c >> 8)
    h[11] = UInt8(c & 0xff)
    return link.header(ipVersion: 4) + h + l4
  }
}
