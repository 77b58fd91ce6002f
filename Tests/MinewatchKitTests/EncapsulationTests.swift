import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// The real miner captures as gateways deliver them: wrapped in each encapsulation, they give
/// the same hosts, sessions, shares and hashrates as bare; the tunnel endpoints are never
/// hosts; what cannot be decoded is counted by name.
@Suite struct EncapsulationTests {
  static let kinds: [Encapsulation] = [
    .vxlan(vni: 5001), .geneve(vni: 77), .erspan2(session: 12), .erspan3(session: 300),
    .greEthernet(key: 42), .greEthernet(key: nil), .greIP, .mpls(labels: [1000, 2000]),
    .mplsPseudowire(label: 3000), .qinqMPLS(labels: [17]), .pppoe(session: 0x1234), .gtpu(teid: 0xC0FFEE),
    .ipInIP, .ppp, .pppHDLC, .ciscoHDLC,
  ]
  static let miners = [
    "miners/btc_sha256d_cpuminer_eth.pcap", "miners/ltc_scrypt_cpuminer_eth.pcap",
    "miners/xmr_rx0_plain_eth.pcap",
    "miners/xmr_rx0_tls_sni_eth.pcap", "miners/xmr_rx0_tls_ip_only_eth.pcap",
  ]

  /// Writes `capture` with every frame wrapped by `wrap` (per frame index and frame).
  /// Frames that are not IP (ARP) are left out; `written` counts the rest.
  static func rewrite(_ capture: String, link: LinkLayer, _ wrap: (Int, [UInt8]) -> [UInt8]?) throws -> (
    path: String, written: UInt64
  ) {
    let records = try readPcapRecords(Paths.capture(capture))
    let path = Paths.scratch(UUID().uuidString + "-wrapped.pcap")
    let w = try PcapWriter(path: path, link: link)
    var written: UInt64 = 0
    for (i, (ts, frame)) in records.enumerated() {
      if let f = wrap(i, frame) {
        w.write(frame: f, timeNs: ts)
        written += 1
      }
    }
    w.close()
    return (path, written)
  }

  /// What must not change: each session's ends, protocol, finding, shares and hashrate.
  static func summary(_ r: ScanReport) -> [String] {
    r.hosts.flatMap(sessionLines).sorted() + r.hosts.map { "host \($0.ip) \($0.role.rawValue)" }.sorted()
  }

  static func sessionLines(_ h: ScanReport.Host) -> [String] {
    h.sessions.map { s in
      "\(h.ip) \(s.clientIP):\(s.clientPort)>\(s.poolIP):\(s.poolPort) \(s.protocolVariant) \(s.finding.rawValue) \(s.sharesSubmitted)/\(s.sharesAccepted) \(s.hashrate.map { String($0.rate) } ?? "-") \(s.login ?? "")"
    }
  }

  /// The tunnel a session through `kind` reports.
  static func tunnel(_ kind: Encapsulation) -> String? {
    switch kind {
    case .vxlan(let vni): "vxlan:\(vni)"
    case .geneve(let vni): "geneve:\(vni)"
    case .erspan2(let s), .erspan3(let s): "erspan:\(s)"
    case .greEthernet(let key): "gre:\(key ?? 0)"
    case .greIP: "gre:0"
    case .mpls(let labels), .qinqMPLS(let labels): "mpls:\(labels[0])"
    case .mplsPseudowire(let label): "mpls:\(label)"
    case .pppoe(let session): "pppoe:\(session)"
    case .gtpu(let teid): "gtpu:\(teid)"
    case .ipInIP: "ipip"
    case .ppp, .pppHDLC, .ciscoHDLC: nil
    }
  }

  @Test(arguments: kinds) func realMinersAreFoundThroughIt(_ kind: Encapsulation) throws {
    for capture in Self.miners {
      let bare = try scan([Paths.capture(capture)])
      let (path, written) = try Self.rewrite(capture, link: kind.link) { i, f in
        kind.wrap(f, sequence: UInt32(i))
      }
      let wrapped = try scan([path])
      #expect(!bare.hosts.isEmpty, "\(capture)")
      #expect(Self.summary(wrapped) == Self.summary(bare), "\(kind) \(capture)")
      #expect(wrapped.capture.packets == written && bare.capture.packets - written <= 6, "\(kind) \(capture)")
      // The tunnel's own endpoints are never hosts.
      #expect(!wrapped.hosts.contains { "\($0.ip)".hasPrefix("198.51.100.") }, "\(kind) \(capture)")
      #expect(
        wrapped.anomalies.keys.allSatisfy { bare.anomalies[$0] != nil },
        "\(kind) \(capture): \(wrapped.anomalies)")
      // Each session names the feed that saw it; bare traffic names none.
      #expect(wrapped.allSessions.allSatisfy { $0.tunnel == Self.tunnel(kind) }, "\(kind) \(capture)")
      #expect(bare.allSessions.allSatisfy { $0.tunnel == nil })
    }
  }

  /// A mirror that copies each direction on its own feed (client to pool through VXLAN, pool to
  /// client through ERSPAN): one flow, the same session as bare.
  @Test func directionsThroughDifferentTunnelsAreOneFlow() throws {
    let capture = "miners/xmr_rx0_plain_eth.pcap"
    let bare = try scan([Paths.capture(capture)])
    let client: [UInt8] = [10, 31, 7, 25]
    var fromClient = 0
    var toClient = 0
    let (path, _) = try Self.rewrite(capture, link: .ethernet(vlans: [])) { i, f in
      let outbound = f.count > 30 && Array(f[26..<30]) == client
      if outbound { fromClient += 1 } else { toClient += 1 }
      return (outbound ? Encapsulation.vxlan(vni: 1) : .erspan2(session: 2)).wrap(f, sequence: UInt32(i))
    }
    #expect(fromClient > 50 && toClient > 50)
    let r = try scan([path])
    #expect(Self.summary(r) == Self.summary(bare))
    #expect(r.allSessions.count == bare.allSessions.count)
  }

  /// Eight VXLAN layers deep is past the decoder's limit; a GRE payload it does not know and an
  /// MPLS payload that is neither IP nor a pseudowire are counted, never silently dropped.
  @Test func whatCannotBeDecodedIsCounted() throws {
    let records = try readPcapRecords(Paths.capture("miners/xmr_rx0_plain_eth.pcap"))
    let frame = records[3].1
    let path = Paths.scratch(UUID().uuidString + "-undecodable.pcap")
    let w = try PcapWriter(path: path, link: .ethernet(vlans: []))
    var deep = frame
    for _ in 0..<8 { deep = Encapsulation.vxlan(vni: 9).wrap(deep)! }
    w.write(frame: deep, timeNs: records[3].0)
    let unknownGRE = Encapsulation.outerIPv4(proto: 47, payload: [0, 0, 0x12, 0x34] + frame)
    w.write(frame: unknownGRE, timeNs: records[3].0)
    let oddMPLS = Encapsulation.outerMACs + [0x88, 0x47] + Encapsulation.labelStack([5]) + [0x99, 1, 2, 3]
    w.write(frame: oddMPLS, timeNs: records[3].0)
    let badPPPoE = Encapsulation.outerMACs + [0x88, 0x64, 0x22, 0x00, 0, 1, 0, 4, 0, 0x21, 0x45, 0]
    w.write(frame: badPPPoE, timeNs: records[3].0)
    w.close()
    let r = try scan([path])
    #expect(r.anomalies["encapsulation_too_deep"] == 1)
    #expect(r.anomalies["unsupported_encapsulation"] == 2)
    #expect(r.anomalies["bad_tunnel_header"] == 1)
    #expect(r.hosts.isEmpty)
  }

  /// The real tunnelled captures of the ordinary corpus (IP-in-IP, IPv6 in IPv6, GRE with PPTP's
  /// PPP, GTP, Teredo, VXLAN) scan without error, their inner traffic decoded, and none mines.
  @Test func realTunnelledTrafficIsDecodedAndSilent() throws {
    for f in [
      "4in4tunnel.pcap", "4in6tunnel.pcap", "6in6tunnel.pcap", "gre.pcapng", "gtp_false_positive.pcapng",
      "ipv6_in_gtp.pcap", "teredo.pcap", "vxlan.pcap",
    ] {
      let r = try scan([Paths.capture("ordinary/" + f)])
      #expect(r.capture.warnings.isEmpty && r.miningHosts.isEmpty, "\(f)")
      #expect(r.anomalies["unsupported_encapsulation"] == nil, "\(f): \(r.anomalies)")
    }
    // The VXLAN capture's 127 packets are the inner hosts' 119 TCP segments and 8 DNS datagrams
    // (tshark: eth:vlan:ip:udp:vxlan:eth:ip:tcp|udp:dns), not datagrams between the tunnel's
    // endpoints.
    let scanner = try Scanner(signatures: loadSignatures())
    _ = try scanner.scan(files: [Paths.capture("ordinary/vxlan.pcap")])
    let c = scanner.pipeline.engine.counters
    #expect(c.tcp == 119 && c.udp == 8 && c.flows_created > 0)
  }
}
