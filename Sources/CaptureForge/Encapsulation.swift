import Foundation

/// Real frames wrapped the way gateways deliver them: remote SPAN (ERSPAN, GRE), cloud traffic
/// mirroring (VXLAN, Geneve), MPLS backbones, PPPoE access links, GTP-U mobile cores, IP-in-IP,
/// and the serial-line link types. Each takes an Ethernet frame carrying IPv4 or IPv6 and
/// returns the frame as the sensor would see it. Outer addresses are documentation ones.
public enum Encapsulation: Sendable, Equatable, CustomStringConvertible {
  case vxlan(vni: UInt32)
  case geneve(vni: UInt32)
  case erspan2(session: UInt16)
  case erspan3(session: UInt16)
  case greEthernet(key: UInt32?)
  case greIP
  case mpls(labels: [UInt32])
  case mplsPseudowire(label: UInt32)
  case qinqMPLS(labels: [UInt32])
  case pppoe(session: UInt16)
  case gtpu(teid: UInt32)
  case ipInIP
  /// Link types whose frames carry no Ethernet header.
  case ppp, pppHDLC, ciscoHDLC

  public var description: String {
    switch self {
    case .vxlan: "VXLAN"
    case .geneve: "Geneve"
    case .erspan2: "ERSPAN II"
    case .erspan3: "ERSPAN III"
    case .greEthernet: "GRE (Ethernet)"
    case .greIP: "GRE (IP)"
    case .mpls: "MPLS"
    case .mplsPseudowire: "MPLS pseudowire"
    case .qinqMPLS: "QinQ + MPLS"
    case .pppoe: "PPPoE"
    case .gtpu: "GTP-U"
    case .ipInIP: "IP-in-IP"
    case .ppp: "PPP"
    case .pppHDLC: "PPP in HDLC framing"
    case .ciscoHDLC: "Cisco HDLC"
    }
  }

  /// The capture's link type for frames of this kind.
  public var link: LinkLayer {
    switch self {
    case .ppp: .other(9)
    case .pppHDLC: .other(50)
    case .ciscoHDLC: .other(104)
    default: .ethernet(vlans: [])
    }
  }

  public static let outerMACs: [UInt8] = [0x02, 0xee, 0, 0, 0, 1, 0x02, 0xee, 0, 0, 0, 2]

  /// The frame wrapped; nil when it is not Ethernet carrying IP.
  public func wrap(_ frame: [UInt8], sequence: UInt32 = 0) -> [UInt8]? {
    guard frame.count >= 14 else { return nil }
    var type = UInt16(frame[12]) << 8 | UInt16(frame[13])
    var off = 14
    while type == 0x8100 || type == 0x88A8, frame.count >= off + 4 {
      type = UInt16(frame[off + 2]) << 8 | UInt16(frame[off + 3])
      off += 4
    }
    guard type == 0x0800 || type == 0x86DD else { return nil }
    let ip = Array(frame[off...])
    let ipProto: UInt16 = type
    switch self {
    case .vxlan(let vni):
      return Self.outerUDP(dport: 4789, payload: [0x08, 0, 0, 0] + be32(vni << 8) + frame)
    case .geneve(let vni):
      // One 8-byte option (class 0x0103, type 0x80, length 1 word), then the frame.
      let option: [UInt8] = be16(0x0103) + [0x80, 0x01] + be32(0xdead_beef)
      return Self.outerUDP(
        dport: 6081, payload: [0x02, 0x00] + be16(0x6558) + be32(vni << 8) + option + frame)
    case .erspan2(let session):
      let header = be16(0x1000 | 0) + be16(session & 0x3ff) + be32(0)  // version 1, VLAN 0, index 0
      return Self.outerIPv4(proto: 47, payload: be16(0x1000) + be16(0x88BE) + be32(sequence) + header + frame)
    case .erspan3(let session):
      let header = be16(0x2000) + be16(session & 0x3ff) + be32(sequence &* 1000) + be16(0) + be16(0)
      return Self.outerIPv4(proto: 47, payload: be16(0x1000) + be16(0x22EB) + be32(sequence) + header + frame)
    case .greEthernet(let key):
      let flags: UInt16 = key == nil ? 0 : 0x2000
      return Self.outerIPv4(proto: 47, payload: be16(flags) + be16(0x6558) + (key.map(be32) ?? []) + frame)
    case .greIP:
      // With a checksum field (unchecked by readers of captures) and a sequence number.
      return Self.outerIPv4(proto: 47, payload: be16(0x9000) + be16(ipProto) + be32(0) + be32(sequence) + ip)
    case .mpls(let labels):
      return Self.outerMACs + be16(0x8847) + Self.labelStack(labels) + ip
    case .mplsPseudowire(let label):
      return Self.outerMACs + be16(0x8847) + Self.labelStack([label]) + be32(sequence & 0xffff) + frame
    case .qinqMPLS(let labels):
      return Self.outerMACs + be16(0x88A8) + be16(100) + be16(0x8100) + be16(200) + be16(0x8847)
        + Self.labelStack(labels) + ip
    case .pppoe(let session):
      let ppp = be16(type == 0x0800 ? 0x0021 : 0x0057) + ip
      return Self.outerMACs + be16(0x8864) + [0x11, 0x00] + be16(session) + be16(UInt16(ppp.count)) + ppp
    case .gtpu(let teid):
      // Flags: version 1, PT, E (an extension header follows): a PDU session container.
      let ext: [UInt8] = [0x01, 0x00, 0x09, 0x00]  // length 1 word, content, next type 0
      let body = be16(0) + [0x00, 0x85] + ext + ip
      return Self.outerUDP(
        dport: 2152, sport: 2152, payload: [0x34, 0xff] + be16(UInt16(body.count)) + be32(teid) + body)
    case .ipInIP:
      return Self.outerIPv4(proto: type == 0x0800 ? 4 : 41, payload: ip)
    case .ppp:
      return [0xff, 0x03] + be16(type == 0x0800 ? 0x0021 : 0x0057) + ip
    case .pppHDLC:
      return [0xff, 0x03] + be16(type == 0x0800 ? 0x0021 : 0x0057) + ip
    case .ciscoHDLC:
      return [0x0f, 0x00] + be16(type) + ip
    }
  }

  public static func labelStack(_ labels: [UInt32]) -> [UInt8] {
    labels.enumerated().flatMap { i, label in
      be32(label << 12 | (i == labels.count - 1 ? 0x100 : 0) | 64)
    }
  }

  public static func outerIPv4(proto: UInt8, payload: [UInt8]) -> [UInt8] {
    let total = UInt16(20 + payload.count)
    let header: [UInt8] =
      [0x45, 0] + be16(total) + be16(0) + be16(0x4000) + [64, proto] + be16(0) + [198, 51, 100, 1]
      + [198, 51, 100, 2]
    return outerMACs + be16(0x0800) + header + payload
  }

  public static func outerUDP(dport: UInt16, sport: UInt16 = 49152, payload: [UInt8]) -> [UInt8] {
    outerIPv4(
      proto: 17, payload: be16(sport) + be16(dport) + be16(UInt16(8 + payload.count)) + be16(0) + payload)
  }
}

/// Calls `body` with each record of a classic little-endian pcap file (timestamp ns, frame),
/// reading the file mapped, so that a file of gigabytes costs no more memory than one record.
public func forEachPcapRecord(_ path: String, _ body: (UInt64, [UInt8]) throws -> Void) throws {
  let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
  try data.withUnsafeBytes { (d: UnsafeRawBufferPointer) in
    func u32(_ o: Int) -> UInt32 {
      UInt32(d[o]) | UInt32(d[o + 1]) << 8 | UInt32(d[o + 2]) << 16 | UInt32(d[o + 3]) << 24
    }
    guard d.count >= 24, u32(0) == 0xa1b2_c3d4 || u32(0) == 0xa1b2_3c4d else {
      throw CocoaError(.fileReadCorruptFile)
    }
    let nanos = u32(0) == 0xa1b2_3c4d
    var off = 24
    while off + 16 <= d.count {
      let caplen = Int(u32(off + 8))
      guard off + 16 + caplen <= d.count else { break }
      let ts = UInt64(u32(off)) * 1_000_000_000 + UInt64(u32(off + 4)) * (nanos ? 1 : 1000)
      try body(ts, Array(d[off + 16..<off + 16 + caplen]))
      off += 16 + caplen
    }
  }
}

/// The records of a classic little-endian pcap file, as (timestamp ns, frame bytes).
public func readPcapRecords(_ path: String) throws -> [(UInt64, [UInt8])] {
  var out: [(UInt64, [UInt8])] = []
  try forEachPcapRecord(path) { out.append(($0, $1)) }
  return out
}
