import CaptureForge
import MinewatchCore

/// Runs frames through a real engine and records every event, copied out of the callback.
final class CoreHarness {
  struct Line: Equatable {
    let flow: UInt32
    let fromA: Bool
    let method: String?
    let text: String
    let truncated: Bool
  }

  var lines: [Line] = []
  var flowEnds: [mw_event] = []
  var dnsQueries: [String] = []
  /// New flows to remembered pool addresses: the name DNS gave, and the pool's address.
  var poolFlows: [(name: String, pool: [UInt8])] = []
  var sni: [String] = []
  var keepTLS = true
  private(set) var engine: OpaquePointer!
  let names: OpaquePointer

  init(linkType: UInt32 = 1, config: ((inout mw_config) -> Void)? = nil, domains: [String] = []) {
    var cfg = mw_config()
    mw_config_default(&cfg)
    cfg.hash_seed = (1, 2)
    config?(&cfg)
    names = mw_names_create(64)!
    for (i, d) in domains.enumerated() {
      var s = d
      _ = s.withUTF8 { mw_names_add(names, $0.baseAddress, $0.count, UInt32(i)) }
    }
    engine = mw_engine_create(
      &cfg, names,
      { ctx, ev in
        Unmanaged<CoreHarness>.fromOpaque(ctx!).takeUnretainedValue().record(ev!.pointee)
      }, Unmanaged.passUnretained(self).toOpaque())
    _ = mw_engine_set_linktype(engine, Int32(linkType))
  }

  deinit {
    mw_engine_destroy(engine)
    mw_names_destroy(names)
  }

  private func record(_ ev: mw_event) -> Int32 {
    let bytes = ev.data.map { Array(UnsafeBufferPointer(start: $0, count: Int(ev.len))) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    switch ev.kind {
    case MW_EV_LINE:
      let name = mw_method_info_at(ev.method).map { String(cString: $0.pointee.name) }
      lines.append(
        Line(flow: ev.flow_id, fromA: ev.from_a != 0, method: name, text: text, truncated: ev.truncated != 0))
      return 1
    case MW_EV_FLOW_END:
      flowEnds.append(ev)
    case MW_EV_DNS_QUERY:
      dnsQueries.append(text)
    case MW_EV_POOL_FLOW:
      var ep = ev.from_a != 0 ? ev.b : ev.a
      let addr = withUnsafeBytes(of: &ep.addr) { Array($0.prefix(ep.family == 4 ? 4 : 16)) }
      poolFlows.append((text, addr))
      return 1
    case MW_EV_TLS_SNI:
      sni.append(text)
      return keepTLS ? 1 : 0
    default:
      break
    }
    return 0
  }

  func feed(_ frame: [UInt8], at ns: UInt64 = 1_000_000_000, caplen: Int? = nil) {
    frame.withUnsafeBufferPointer {
      mw_engine_packet(
        engine, ns, $0.baseAddress, UInt32(min(caplen ?? frame.count, frame.count)), UInt32(frame.count))
    }
  }

  /// Feeds every record of a pcap file made in memory.
  func feed(pcap data: [UInt8]) {
    var off = 24
    while off + 16 <= data.count {
      let cap = Int(
        UInt32(data[off + 8]) | UInt32(data[off + 9]) << 8 | UInt32(data[off + 10]) << 16 | UInt32(
          data[off + 11]) << 24)
      let len =
        UInt32(data[off + 12]) | UInt32(data[off + 13]) << 8 | UInt32(data[off + 14]) << 16 | UInt32(
          data[off + 15]) << 24
      let sec =
        UInt64(data[off]) | UInt64(data[off + 1]) << 8 | UInt64(data[off + 2]) << 16 | UInt64(data[off + 3])
        << 24
      let usec =
        UInt64(data[off + 4]) | UInt64(data[off + 5]) << 8 | UInt64(data[off + 6]) << 16 | UInt64(
          data[off + 7]) << 24
      let frame = Array(data[(off + 16)..<(off + 16 + cap)])
      frame.withUnsafeBufferPointer {
        mw_engine_packet(engine, sec * 1_000_000_000 + usec * 1000, $0.baseAddress, UInt32(cap), len)
      }
      off += 16 + cap
    }
  }

  func flush() { mw_engine_flush(engine) }

  var counters: mw_counters { mw_engine_counters(engine).pointee }

  func anomaly(_ a: mw_anomaly) -> UInt64 {
    var c = counters
    return withUnsafeBytes(of: &c.anomalies) { $0.bindMemory(to: UInt64.self)[Int(a.rawValue)] }
  }
}
