import Foundation
import MinewatchCore

/// Turns the C core's events into sessions: one per mining flow, one per TLS flow to a pool
/// name, plus what DNS said about pool addresses. Bounded: at most `maxSessions` open at once,
/// at most `maxDNSAddresses` remembered addresses; what does not fit is counted.
public final class SessionTracker: CoreEventSink {
  public let signatures: Signatures
  let maxSessions: Int
  let maxDNSAddresses: Int
  private(set) var open: [UInt32: MiningSession] = [:]
  private(set) var finished: [MiningSession] = []
  /// Pool addresses learnt from DNS answers, with the name asked and when the answer expires.
  private var dnsAddresses: [IPAddress: (name: String, signature: Int, expiresNs: UInt64)] = [:]
  private var dnsOrder: [IPAddress] = []
  private var dnsOrderHead = 0
  public private(set) var counts: [String: UInt64] = [:]

  public init(signatures: Signatures, maxSessions: Int = 65536, maxDNSAddresses: Int = 65536) {
    self.signatures = signatures
    self.maxSessions = maxSessions
    self.maxDNSAddresses = maxDNSAddresses
  }

  private func count(_ name: String) { counts[name, default: 0] += 1 }

  private func session(flow: UInt32, a: Endpoint, b: Endpoint, at: UInt64) -> MiningSession? {
    if let s = open[flow] { return s }
    guard open.count < maxSessions else {
      count("session_table_full")
      return nil
    }
    let s = MiningSession(flowID: flow, a: a, b: b, at: at)
    open[flow] = s
    return s
  }

  public func handle(_ event: CoreEvent) -> Bool {
    switch event {
    case .line(let flow, let at, let a, let b, let fromA, let method, let bytes, _):
      session(flow: flow, a: a, b: b, at: at)?.apply(
        line: bytes, methodID: method, fromA: fromA, at: at)
      return true
    case .flowEnd(let flow, _, _, let stats):
      guard let s = open.removeValue(forKey: flow) else { return false }
      s.stats = stats
      s.firstNs = min(s.firstNs, stats.firstNs)
      s.lastNs = max(s.lastNs, stats.lastNs)
      if s.confirmed { finished.append(s) }
      return false
    case .dnsQuery(let at, let host, let name, let sig):
      guard let d = domain(sig), d.kind != .website else { return false }
      recordLookup(host: host, name: name, signature: sig, at: at)
      return false
    case .dnsAnswer(let at, _, let name, let address, let ttl, let sig):
      // Remembered here for the name, and in C (by returning true) to catch the flows.
      guard let d = domain(sig), d.kind != .website else { return false }
      remember(address: address, name: name, signature: sig, expiresNs: at + UInt64(ttl) * 1_000_000_000)
      return true
    case .poolFlow(let flow, let at, let a, let b, let clientIsA, let sig):
      guard let d = domain(sig), d.kind != .website,
        let s = session(flow: flow, a: a, b: b, at: at)
      else { return false }
      s.nameSignature = s.nameSignature ?? sig
      s.forceClientIfUnknown(isA: clientIsA)
      let pool = clientIsA ? b.ip : a.ip
      if let dns = dnsName(for: pool, at: at) {
        s.evidence.insert("dns:" + dns.name)
      } else {
        s.evidence.insert("address:\(pool)")
      }
      return true
    case .httpHost(let flow, let at, let a, let b, let fromA, let name, let sig):
      guard let d = domain(sig), d.kind != .website,
        let s = session(flow: flow, a: a, b: b, at: at)
      else { return false }
      s.nameSignature = sig
      s.httpHost = name
      s.evidence.insert("http-host:" + name)
      s.forceClientIfUnknown(isA: fromA)
      return true
    case .tlsServerName(let flow, let at, let a, let b, let fromA, let name, let sig):
      guard let d = domain(sig), d.kind != .website,
        let s = session(flow: flow, a: a, b: b, at: at)
      else { return false }
      s.nameSignature = sig
      s.markEncrypted(serverName: name, helloFromA: fromA)
      return true
    }
  }

  private func domain(_ sig: Int) -> Signatures.Domain? {
    sig >= 0 && sig < signatures.domains.count ? signatures.domains[sig] : nil
  }

  /// A host's lookups of pool names: the evidence left when no connection follows.
  struct Lookup {
    var name: String
    var signature: Int
    var firstNs: UInt64
    var lastNs: UInt64
    var queries: Int
  }

  private(set) var lookups: [IPAddress: [String: Lookup]] = [:]
  let maxLookupHosts = 65536
  let maxLookupsPerHost = 32

  private func recordLookup(host: IPAddress, name: String, signature: Int, at: UInt64) {
    if lookups[host] == nil && lookups.count >= maxLookupHosts {
      count("lookup_table_full")
      return
    }
    if var l = lookups[host, default: [:]][name] {
      l.queries += 1
      l.lastNs = max(l.lastNs, at)
      lookups[host]![name] = l
    } else if lookups[host, default: [:]].count < maxLookupsPerHost {
      lookups[host, default: [:]][name] = Lookup(
        name: name, signature: signature, firstNs: at, lastNs: at, queries: 1)
    } else {
      count("lookup_table_full")
    }
  }

  private func remember(address: IPAddress, name: String, signature: Int, expiresNs: UInt64) {
    if dnsAddresses[address] == nil {
      if dnsAddresses.count >= maxDNSAddresses {
        // Oldest first out: the order ring holds each address once.
        let old = dnsOrder[dnsOrderHead]
        dnsAddresses[old] = nil
        dnsOrder[dnsOrderHead] = address
        dnsOrderHead = (dnsOrderHead + 1) % dnsOrder.count
        count("dns_address_evicted")
      } else {
        dnsOrder.append(address)
      }
    }
    dnsAddresses[address] = (name, signature, expiresNs)
  }

  /// The pool name DNS gave for an address, if the answer was still valid at that time.
  func dnsName(for address: IPAddress, at: UInt64) -> (name: String, signature: Int)? {
    guard let e = dnsAddresses[address], at <= e.expiresNs else { return nil }
    return (e.name, e.signature)
  }

  /// Ends everything still open (the end of a capture): the engine's flush sends FLOW_END for
  /// each watched flow, and what is left had no statistics.
  func closeAll() {
    for (_, s) in open.sorted(by: { $0.key < $1.key }) where s.confirmed { finished.append(s) }
    open.removeAll()
  }

  var sessions: [MiningSession] { finished }
}

extension MiningSession {
  /// A TLS flow named after a pool: the ClientHello sender is the miner.
  func markEncrypted(serverName: String, helloFromA: Bool) {
    sni = serverName
    if variant == nil || variant == .unidentified { variant = .tls }
    evidence.insert("sni:" + serverName)
    forceClientIfUnknown(isA: helloFromA)
  }
}
