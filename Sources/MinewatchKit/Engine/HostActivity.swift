import Foundation
import MinewatchCore

/// What a host did besides mining, as the C core remembers it: the latest logins it accepted
/// and its connection attempts to the ports worms scan.
public struct HostActivity: Sendable, Equatable {
  /// A connection the host accepted on one of its login ports.
  public struct Login: Sendable, Equatable {
    public var ns: UInt64
    public var peer: IPAddress
    public var port: UInt16
  }
  /// The latest logins, newest first (at most MW_HOST_LOGINS).
  public var logins: [Login] = []
  public var probeAttempts: Int = 0
  /// Distinct (address, port) targets of those attempts in the busiest window (an estimate).
  public var probeTargets: Int = 0

  init(_ a: mw_host_activity) {
    var ring = a.logins
    logins = withUnsafeBytes(of: &ring) { raw in
      Array(raw.bindMemory(to: mw_login.self).prefix(Int(min(a.login_count, UInt32(MW_HOST_LOGINS)))))
    }.map { Login(ns: $0.ns, peer: IPAddress($0.peer), port: $0.peer.port) }
    probeAttempts = Int(a.probe_attempts)
    probeTargets = Self.linearCount(bitsSet: Int(a.probe_bits_set), of: Int(MW_PROBE_BITS))
  }

  /// Linear counting (Whang, Vander-Zanden and Taylor, 1990): n ≈ -m ln(empty / m). A full
  /// bitmap says "at least m ln m".
  static func linearCount(bitsSet: Int, of m: Int) -> Int {
    let empty = max(m - bitsSet, 1)
    return Int((-Double(m) * log(Double(empty) / Double(m))).rounded())
  }
}

extension CoreEngine {
  /// The host's remembered activity, nil when it has none (or its record made room).
  public func hostActivity(_ ip: IPAddress) -> HostActivity? {
    var out = mw_host_activity()
    let found = ip.bytes.withUnsafeBufferPointer {
      mw_engine_host_activity(raw, ip.family, $0.baseAddress, ip.tenant, &out)
    }
    return found == 0 ? HostActivity(out) : nil
  }

  /// The name a recent DNS answer that no signature lists gave for this address.
  public func answeredName(_ ip: IPAddress) -> String? {
    var name: UnsafePointer<UInt8>?
    let n = ip.bytes.withUnsafeBufferPointer {
      mw_engine_answered_name(raw, ip.family, $0.baseAddress, &name)
    }
    guard n > 0, let name else { return nil }
    return String(decoding: UnsafeBufferPointer(start: name, count: n), as: UTF8.self).lowercased()
  }

  /// Tells the core which ports are login ports and which are probe ports.
  public func setPortClasses(login: [UInt16], probe: [UInt16]) {
    for p in 0...UInt16.max { mw_engine_set_port_class(raw, p, 0) }
    for p in login { mw_engine_set_port_class(raw, p, UInt8(MW_PORT_LOGIN)) }
    for p in probe {
      let both = login.contains(p) ? UInt8(MW_PORT_LOGIN) : 0
      mw_engine_set_port_class(raw, p, both | UInt8(MW_PORT_PROBE))
    }
  }
}
