import MinewatchCore

/// What the C core reports, copied out of the callback into Swift values.
public enum CoreEvent {
  case line(
    flow: UInt32, slot: UInt32, at: UInt64, a: Endpoint, b: Endpoint, fromA: Bool, method: UInt16,
    bytes: [UInt8], truncated: Bool, fields: mw_fields?, http: HTTPRequestInfo?)
  case flowEnd(flow: UInt32, a: Endpoint, b: Endpoint, stats: FlowStats)
  /// The first payload of a kept flow: more than a connection attempt.
  case flowData(flow: UInt32, at: UInt64)
  /// An encrypted flow ended whose rhythm the core followed; `a` sent the ClientHello.
  case opaqueFlow(
    flow: UInt32, slot: UInt32, at: UInt64, a: Endpoint, b: Endpoint, clientIsA: Bool, rhythm: RhythmStats,
    ongoing: Bool)
  case dnsQuery(at: UInt64, host: IPAddress, name: String, signature: Int)
  case tlsServerName(
    flow: UInt32, slot: UInt32, at: UInt64, a: Endpoint, b: Endpoint, fromA: Bool,
    name: String, signature: Int)
  /// A new flow to an address remembered as a pool's; `clientIsA` tells which side is the host.
  case poolFlow(
    flow: UInt32, slot: UInt32, at: UInt64, a: Endpoint, b: Endpoint, clientIsA: Bool, name: String,
    signature: Int)
  case httpHost(
    flow: UInt32, slot: UInt32, at: UInt64, a: Endpoint, b: Endpoint, fromA: Bool, name: String,
    signature: Int)
}

extension CoreEvent {
  /// The flow a session event belongs to (nil for DNS queries).
  var flowID: UInt32? {
    switch self {
    case .line(let flow, _, _, _, _, _, _, _, _, _, _), .tlsServerName(let flow, _, _, _, _, _, _, _),
      .poolFlow(let flow, _, _, _, _, _, _, _), .httpHost(let flow, _, _, _, _, _, _, _),
      .flowData(let flow, _), .opaqueFlow(let flow, _, _, _, _, _, _, _):
      return flow
    case .flowEnd, .dnsQuery: return nil
    }
  }
}

public struct Endpoint: Hashable, Sendable {
  public let ip: IPAddress
  public let port: UInt16
  init(_ ep: mw_endpoint) {
    ip = IPAddress(ep)
    port = ep.port
  }
  public init(ip: IPAddress, port: UInt16) {
    self.ip = ip
    self.port = port
  }
}

/// What the HTTP request around a mining body said: its target, Host and Basic credentials.
public struct HTTPRequestInfo: Sendable, Equatable {
  public var target: String?
  public var host: String?
  /// The base64 token of `Authorization: Basic`.
  public var basic: String?

  init?(_ ev: mw_event) {
    guard ev.http_target_len | ev.http_host_len | ev.http_auth_len != 0 else { return nil }
    func text(_ p: UnsafePointer<UInt8>?, _ n: UInt8) -> String? {
      guard let p, n > 0 else { return nil }
      return String(decoding: UnsafeBufferPointer(start: p, count: Int(n)), as: UTF8.self)
    }
    target = text(ev.http_target, ev.http_target_len)
    host = text(ev.http_host, ev.http_host_len)?.lowercased()
    basic = text(ev.http_auth, ev.http_auth_len)
    if target == nil && host == nil && basic == nil { return nil }
  }
}

public struct FlowStats: Sendable {
  public var bytesFromA: UInt64, bytesFromB: UInt64
  public var packetsFromA: UInt64, packetsFromB: UInt64
  public var firstNs: UInt64, lastNs: UInt64
  /// Payload crossed the flow in some direction: more than a connection attempt.
  public var carriedPayload: Bool
  /// The tunnel its first packet came through ("vxlan:5001", "mpls:1000", "vlan:20"), if any.
  public var tunnel: String? = nil

  init(_ ev: mw_event) {
    bytesFromA = ev.bytes_from_a
    bytesFromB = ev.bytes_from_b
    packetsFromA = ev.packets_from_a
    packetsFromB = ev.packets_from_b
    firstNs = ev.first_ns
    lastNs = ev.last_ns
    carriedPayload = ev.carried != 0
    if ev.tunnel_kind != 0 {
      let kind = String(cString: mw_tunnel_name(Int32(ev.tunnel_kind)))
      // IP-in-IP and Teredo have no id worth a reader's attention.
      tunnel =
        ev.tunnel_kind == UInt8(MW_TUNNEL_IPIP.rawValue) || ev.tunnel_kind == UInt8(MW_TUNNEL_TEREDO.rawValue)
        ? kind : "\(kind):\(ev.tunnel_id)"
    }
  }

  public init(
    bytesFromA: UInt64, bytesFromB: UInt64, packetsFromA: UInt64, packetsFromB: UInt64, firstNs: UInt64,
    lastNs: UInt64, carriedPayload: Bool, tunnel: String? = nil
  ) {
    self.bytesFromA = bytesFromA
    self.bytesFromB = bytesFromB
    self.packetsFromA = packetsFromA
    self.packetsFromB = packetsFromB
    self.firstNs = firstNs
    self.lastNs = lastNs
    self.carriedPayload = carriedPayload
    self.tunnel = tunnel
  }
}

/// Receives events as the engine produces them; returns true to keep watching a flow.
public protocol CoreEventSink: AnyObject {
  func handle(_ event: CoreEvent) -> Bool
}

/// Owns one C engine and the name table it matches against. Not thread-safe: one capture
/// loop drives it.
public final class CoreEngine {
  /// The C engine, for drivers that feed it from C (the live capture loop).
  public let raw: OpaquePointer
  private let names: OpaquePointer?
  private let box: SinkBox

  final class SinkBox {
    weak var sink: CoreEventSink?
  }

  public init(config: EngineLimits = EngineLimits(), names: NameTable?, sink: CoreEventSink) throws {
    box = SinkBox()
    box.sink = sink
    var cfg = mw_config()
    mw_config_default(&cfg)
    config.apply(to: &cfg)
    self.names = names?.raw
    let ctx = Unmanaged.passUnretained(box).toOpaque()
    guard let e = mw_engine_create(&cfg, names?.raw, coreEventTrampoline, ctx) else {
      throw MinewatchError.resources("cannot allocate the engine's tables (\(config))")
    }
    raw = e
  }

  deinit { mw_engine_destroy(raw) }

  /// Returns false when the link type is not one minewatch decodes.
  public func setLinkType(_ lt: Int32) -> Bool { mw_engine_set_linktype(raw, lt) == 0 }

  public func packet(timestampNs: UInt64, bytes: UnsafeRawBufferPointer, wireLength: UInt32) {
    mw_engine_packet(
      raw, timestampNs, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
      UInt32(bytes.count), wireLength)
  }

  public func flush() { mw_engine_flush(raw) }

  /// Which tunnels carry a tenant's own address space (set before the first packet).
  public func setTenants(_ rules: [(kind: UInt8, id: UInt32, tenant: UInt16)]) throws {
    let c = rules.map { mw_tenant_rule(kind: $0.kind, id: $0.id, tenant: $0.tenant) }
    let rc = c.withUnsafeBufferPointer { mw_engine_set_tenants(raw, $0.baseAddress, UInt32($0.count)) }
    guard rc == 0 else {
      throw MinewatchError.usage(
        "tenant tunnels refused: at most \(MW_TENANT_RULES_MAX), each once, tenants numbered from 1")
    }
  }

  /// Remembers a pool's address for good (the signatures' `addresses.txt`, verified pools);
  /// `signature` is the entry's index, or -1 for none.
  public func addPoolAddress(_ ip: IPAddress, signature: Int) {
    let value = signature >= 0 ? UInt32(signature + 1) : 0
    _ = ip.bytes.withUnsafeBufferPointer {
      mw_engine_add_pool_address(raw, ip.family, $0.baseAddress, value, 0)
    }
  }

  public var counters: mw_counters { mw_engine_counters(raw).pointee }

  /// A live flow's statistics so far, or nil when the flow has ended.
  public func stats(slot: UInt32, flow: UInt32) -> FlowStats? {
    var ev = mw_event()
    guard mw_engine_flow_stats(raw, slot, flow, &ev) == 0 else { return nil }
    return FlowStats(ev)
  }

  public func advanceTime(to ns: UInt64) { mw_engine_advance_time(raw, ns) }

  /// File reads pause when packet time reaches this (0: never), so timers fire when due.
  public func setDeadline(_ ns: UInt64) { mw_engine_set_deadline(raw, ns) }

  /// Packet time: the latest timestamp seen (or advanced to on an idle link).
  public var nowNs: UInt64 { mw_engine_now(raw) }

  /// The place in the scan (from 1) of the packet the engine is at.
  public var position: UInt64 { mw_engine_position(raw) }

  /// Takes `other`'s hash seed (before either has seen a packet): a sharded scan's engines must
  /// place host records alike (their sets fill, and give way, alike in every engine).
  public func shareSeed(with other: CoreEngine) { mw_engine_share_seed(raw, other.raw) }

  /// Ends idle flows in the next `buckets` buckets of the table.
  @discardableResult
  public func expireIdle(buckets: UInt32) -> UInt32 { mw_engine_expire_idle(raw, buckets) }

  /// Points the engine at another name table (a reload); the caller keeps both alive until
  /// the call returns.
  public func setNames(_ names: NameTable) { mw_engine_set_names(raw, names.raw) }

  /// Anomalies by their stable names, zero counts left out.
  public var anomalies: [String: UInt64] {
    var c = counters
    var out: [String: UInt64] = [:]
    withUnsafeBytes(of: &c.anomalies) { raw in
      let values = raw.bindMemory(to: UInt64.self)
      for i in 0..<Int(MW_AN_COUNT.rawValue) where values[i] > 0 {
        out[String(cString: mw_anomaly_name(mw_anomaly(UInt32(i))))] = values[i]
      }
    }
    return out
  }
}

/// A name-table value as a signature index (the website flag masked off); -1 for none.
private func signature(_ value: UInt32) -> Int {
  value == 0 ? -1 : Int((value - 1) & ~MW_NAME_QUIET)
}

/// The one C callback: copies the event into Swift values and hands it to the sink.
private func coreEventTrampoline(ctx: UnsafeMutableRawPointer?, ev: UnsafePointer<mw_event>?)
  -> Int32
{
  guard let ctx, let ev = ev?.pointee else { return 0 }
  let box = Unmanaged<CoreEngine.SinkBox>.fromOpaque(ctx).takeUnretainedValue()
  guard let sink = box.sink else { return 0 }
  let bytes = ev.data.map { Array(UnsafeBufferPointer(start: $0, count: Int(ev.len))) } ?? []
  let text = { String(decoding: bytes, as: UTF8.self).lowercased() }
  let event: CoreEvent
  switch ev.kind {
  case MW_EV_LINE:
    event = .line(
      flow: ev.flow_id, slot: ev.flow_slot, at: ev.ts_ns, a: Endpoint(ev.a), b: Endpoint(ev.b),
      fromA: ev.from_a != 0,
      method: ev.method, bytes: bytes, truncated: ev.truncated != 0, fields: ev.fields?.pointee,
      http: HTTPRequestInfo(ev))
  case MW_EV_FLOW_END:
    event = .flowEnd(
      flow: ev.flow_id, a: Endpoint(ev.a), b: Endpoint(ev.b),
      stats: FlowStats(ev))
  case MW_EV_DNS_QUERY:
    event = .dnsQuery(
      at: ev.ts_ns, host: IPAddress(ev.a), name: text(), signature: signature(ev.name_value))
  case MW_EV_TLS_SNI:
    event = .tlsServerName(
      flow: ev.flow_id, slot: ev.flow_slot, at: ev.ts_ns, a: Endpoint(ev.a), b: Endpoint(ev.b),
      fromA: ev.from_a != 0,
      name: text(),
      signature: signature(ev.name_value))
  case MW_EV_POOL_FLOW:
    event = .poolFlow(
      flow: ev.flow_id, slot: ev.flow_slot, at: ev.ts_ns, a: Endpoint(ev.a), b: Endpoint(ev.b),
      clientIsA: ev.from_a != 0,
      name: text(), signature: signature(ev.name_value))
  case MW_EV_HTTP_HOST:
    event = .httpHost(
      flow: ev.flow_id, slot: ev.flow_slot, at: ev.ts_ns, a: Endpoint(ev.a), b: Endpoint(ev.b),
      fromA: ev.from_a != 0,
      name: text(), signature: signature(ev.name_value))
  case MW_EV_FLOW_DATA:
    event = .flowData(flow: ev.flow_id, at: ev.ts_ns)
  case MW_EV_OPAQUE_FLOW:
    guard let r = ev.rhythm?.pointee else { return 0 }
    event = .opaqueFlow(
      flow: ev.flow_id, slot: ev.flow_slot, at: ev.ts_ns, a: Endpoint(ev.a), b: Endpoint(ev.b),
      clientIsA: ev.from_a != 0, rhythm: RhythmStats(r), ongoing: ev.ongoing != 0)
  default:
    return 0
  }
  return sink.handle(event) ? 1 : 0
}

/// The engine's table sizes: every one bounded, with the defaults documented in the README.
public struct EngineLimits: Sendable, CustomStringConvertible {
  public var flowCapacity: UInt32 = 1 << 18
  public var streamBuffers: UInt32 = 2048
  public var lineMax: UInt32 = 8192
  public var inspectBytes: UInt32 = 4096
  public var idleTimeoutSeconds: UInt32 = 120
  public var poolAddresses: UInt32 = 65536
  public var hostRecords: UInt32 = 65536
  public var probeWindowSeconds: UInt32 = 600
  /// The session layer's tables (Swift): sessions open at once, (host, name) lookups kept.
  public var openSessions = 65_536
  public var lookups = 65_536

  public init() {}

  func apply(to cfg: inout mw_config) {
    cfg.flow_capacity = flowCapacity
    cfg.stream_buffers = streamBuffers
    cfg.line_max = lineMax
    cfg.inspect_bytes = inspectBytes
    cfg.idle_timeout_s = idleTimeoutSeconds
    cfg.pool_addresses = poolAddresses
    cfg.host_records = hostRecords
    cfg.probe_window_s = probeWindowSeconds
  }

  public var description: String {
    "flows \(flowCapacity), streams \(streamBuffers), line \(lineMax) B"
  }
}

/// The C name table (pool domains), filled from the signatures.
public final class NameTable {
  let raw: OpaquePointer

  public init(capacity: Int) throws {
    guard let n = mw_names_create(UInt32(clamping: max(capacity, 16))) else {
      throw MinewatchError.resources("cannot allocate a name table for \(capacity) names")
    }
    raw = n
  }

  deinit { mw_names_destroy(raw) }

  @discardableResult
  public func add(_ name: String, value: Int) -> Bool {
    var s = name
    return s.withUTF8 { mw_names_add(raw, $0.baseAddress, $0.count, UInt32(value)) == 0 }
  }

  /// The value of the longest matching suffix, or nil.
  public func match(_ name: String) -> Int? {
    var s = name
    let v = s.withUTF8 { buf in
      buf.withMemoryRebound(to: UInt8.self) { mw_names_match(raw, $0.baseAddress, $0.count, nil) }
    }
    return v == 0 ? nil : Int(v) - 1
  }

  public var count: Int { Int(mw_names_count(raw)) }
}

public enum MinewatchError: Error, CustomStringConvertible {
  case unreadable(String)
  case usage(String)
  case resources(String)
  case signatures(String)

  public var description: String {
    switch self {
    case .unreadable(let s), .usage(let s), .resources(let s), .signatures(let s): return s
    }
  }
}
