import CPcap
import Foundation
import MinewatchCore

/// Progress of a running scan, for a terminal display.
public struct ScanProgress: Sendable {
  public var file: String
  public var offset: Int64
  public var size: Int64?
  public var packets: UInt64
  public var elapsed: Double
}

/// The scan pipeline: capture files → C engine → session tracker → report. The daemon feeds
/// the same engine and tracker from a live capture.
public final class Scanner {
  public let signatures: Signatures
  public let limits: EngineLimits
  private let names: NameTable
  private let tracker: SessionTracker
  private let engine: CoreEngine

  public init(signatures: Signatures, limits: EngineLimits = EngineLimits()) throws {
    self.signatures = signatures
    self.limits = limits
    names = try signatures.nameTable()
    tracker = SessionTracker(signatures: signatures)
    engine = try CoreEngine(config: limits, names: names, sink: tracker)
    for a in signatures.addresses { engine.addPoolAddress(a.ip, signature: a.domain) }
  }

  /// Opens every file first, so a bad name fails before any work (exit code 2).
  public func scan(files: [String], progress: ((ScanProgress) -> Void)? = nil) throws -> ScanReport {
    var captures: [(String, OpaquePointer)] = []
    defer { for (_, c) in captures { mw_capture_close(c) } }
    var err = [CChar](repeating: 0, count: 512)
    for f in files {
      guard let c = mw_capture_open_file(f, &err, err.count) else {
        throw MinewatchError.unreadable(cText(err))
      }
      captures.append((f, c))
      let lt = mw_capture_linktype(c)
      if mw_engine_set_linktype(engine.raw, lt) != 0 {
        let name = pcap_datalink_val_to_name(lt).map { String(cString: $0) } ?? "unknown"
        throw MinewatchError.unreadable("\(f): link type \(lt) (\(name)) is not supported")
      }
    }
    var warnings: [String] = []
    let start = Date()
    for (f, c) in captures {
      _ = mw_engine_set_linktype(engine.raw, mw_capture_linktype(c))
      let size =
        f == "-" ? nil : (try? FileManager.default.attributesOfItem(atPath: f)[.size] as? Int64) ?? nil
      while true {
        let rc = mw_capture_run(c, engine.raw, 1 << 16, &err, err.count)
        if let progress {
          progress(
            ScanProgress(
              file: f, offset: mw_capture_offset(c), size: size, packets: engine.counters.packets,
              elapsed: Date().timeIntervalSince(start)))
        }
        if rc == 0 { break }
        if rc < 0 {
          warnings.append("\(f): \(cText(err)); reporting what was read before it")
          break
        }
      }
    }
    return finish(files: files, warnings: warnings)
  }

  private func finish(files: [String], warnings: [String]) -> ScanReport {
    engine.flush()
    tracker.closeAll()
    let c = engine.counters
    var anomalies = engine.anomalies
    for (k, v) in tracker.counts { anomalies[k, default: 0] += v }
    let capture = ScanReport.Capture(
      files: files, packets: c.packets, bytes: c.bytes, startNs: c.first_ns, endNs: c.last_ns,
      warnings: warnings)
    return ReportBuilder(tracker: tracker, names: names).build(capture: capture, anomalies: anomalies)
  }
}

/// The text of a NUL-terminated C buffer.
func cText(_ buf: [CChar]) -> String {
  String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
