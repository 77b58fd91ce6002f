import Foundation
import MinewatchCore

/// The detection pipeline both `scan` and the daemon drive: the C engine, the name table it
/// matches against, and the session tracker its events feed. One thread drives it.
public final class Pipeline {
  public private(set) var signatures: Signatures
  public private(set) var names: NameTable
  public let tracker: SessionTracker
  public let engine: CoreEngine
  public let limits: EngineLimits
  /// The site's own networks (proxy detection).
  public var internalNetworks = CIDR.privateRanges

  public init(signatures: Signatures, limits: EngineLimits = EngineLimits()) throws {
    self.signatures = signatures
    self.limits = limits
    names = try signatures.nameTable()
    tracker = SessionTracker(signatures: signatures, names: names)
    engine = try CoreEngine(config: limits, names: names, sink: tracker)
    addListedAddresses()
  }

  private func addListedAddresses() {
    for a in signatures.addresses { engine.addPoolAddress(a.ip, signature: a.domain) }
  }

  /// Swaps in new signatures between two packets: the engine's name table and the tracker's
  /// entries change together, so name values always index the signatures in force.
  public func reload(_ new: Signatures) throws {
    let table = try new.nameTable()
    engine.setNames(table)
    tracker.replace(signatures: new, names: table)
    signatures = new
    names = table
    addListedAddresses()
  }

  public var builder: ReportBuilder {
    ReportBuilder(tracker: tracker, names: names, internalNetworks: internalNetworks)
  }

  /// Bytes the miner has sent so far on a session's flow: the live counter, no report built.
  public func egressBytes(_ m: MiningSession) -> UInt64? {
    guard let client = m.client, let st = m.stats ?? engine.stats(slot: m.slot, flow: m.flowID) else {
      return nil
    }
    return client == m.a ? st.bytesFromA : st.bytesFromB
  }

  /// A session as reported now: an open one with its flow's statistics so far.
  public func report(_ m: MiningSession) -> ScanReport.Session? {
    builder.session(m, liveStats: m.stats == nil ? engine.stats(slot: m.slot, flow: m.flowID) : nil)
  }

  /// Ends every flow and builds the report of everything seen.
  public func finish(files: [String], warnings: [String]) -> ScanReport {
    engine.flush()
    tracker.closeAll()
    let c = engine.counters
    let capture = ScanReport.Capture(
      files: files, packets: c.packets, bytes: c.bytes, startNs: c.first_ns, endNs: c.last_ns,
      warnings: warnings)
    return builder.build(capture: capture, anomalies: anomalies)
  }

  /// The engine's anomalies and the tracker's, by stable name.
  public var anomalies: [String: UInt64] {
    var all = engine.anomalies
    for (k, v) in tracker.counts { all[k, default: 0] += v }
    return all
  }
}
