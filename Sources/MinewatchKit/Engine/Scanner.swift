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

/// How capture files are read: classic pcap files in place (`mapped`, the default; pcapng,
/// stdin and pipes fall back to libpcap), or everything through libpcap.
public enum CaptureReader: String, Sendable, CaseIterable {
  case mapped, libpcap
}

/// Opened capture files, closed together.
public final class CaptureFiles {
  public private(set) var files: [(path: String, handle: OpaquePointer)] = []

  /// Opens every file first, so a bad name fails before any work (exit code 2). With
  /// `threads` of 2 or more, mapped files are walked and decoded on a thread of their own.
  public init(_ paths: [String], engine: CoreEngine, reader: CaptureReader = .mapped, threads: Int = 1) throws
  {
    var err = [CChar](repeating: 0, count: 512)
    let mode =
      reader == .libpcap
      ? Int32(MW_READER_LIBPCAP) : threads >= 2 ? Int32(MW_READER_PIPELINED) : Int32(MW_READER_AUTO)
    for f in paths {
      guard let c = mw_capture_open_file_with(f, mode, &err, err.count) else {
        throw MinewatchError.unreadable(cText(err))
      }
      files.append((f, c))
      let lt = mw_capture_linktype(c)
      if mw_engine_set_linktype(engine.raw, lt) != 0 {
        let name = pcap_datalink_val_to_name(lt).map { String(cString: $0) } ?? "unknown"
        throw MinewatchError.unreadable("\(f): link type \(lt) (\(name)) is not supported")
      }
    }
  }

  deinit { for (_, c) in files { mw_capture_close(c) } }

  /// Feeds one file to the engine in batches, calling `afterBatch` between them; returns a
  /// warning when the file ended early.
  public func feed(
    _ index: Int, engine: CoreEngine, batch: UInt64 = 1 << 16, afterBatch: (Int64) -> Void
  ) -> String? {
    let (f, c) = files[index]
    _ = mw_engine_set_linktype(engine.raw, mw_capture_linktype(c))
    var err = [CChar](repeating: 0, count: 512)
    while true {
      let rc = mw_capture_run(c, engine.raw, batch, &err, err.count)
      afterBatch(mw_capture_offset(c))
      if rc == 0 { return nil }
      if rc < 0 { return "\(f): \(cText(err)); reporting what was read before it" }
    }
  }
}

/// `minewatch scan`: capture files → pipeline → report.
public final class Scanner {
  public let pipeline: Pipeline

  public init(signatures: Signatures, limits: EngineLimits = EngineLimits(), hosts: HostTable = HostTable())
    throws
  {
    pipeline = try Pipeline(signatures: signatures, limits: limits, hosts: hosts)
  }

  /// Threads a scan uses unless told: one per core (a reader and an engine on two; a reader
  /// and engines sharing the flows on more, ShardedScan), at most 16. Counted once: each count
  /// reads the cgroup's quota files, and the command line's default is taken several times.
  public static let defaultThreads = min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 16)

  public func scan(
    files: [String], reader: CaptureReader = .mapped, threads: Int = 1,
    progress: ((ScanProgress) -> Void)? = nil
  )
    throws -> ScanReport
  {
    let captures = try CaptureFiles(files, engine: pipeline.engine, reader: reader, threads: threads)
    // Engines sharing the flows on three threads or more; on two, a reader thread for files
    // libpcap reads too (a mapped file's reader thread is the pipelined capture's own).
    let engines = min(threads - 1, Int(MW_SHARDS_MAX))
    let allMapped = captures.files.allSatisfy { mw_capture_is_mapped($0.handle) != 0 }
    if pipeline.evidence == nil, engines >= 2 || (engines == 1 && !allMapped) {
      return try ShardedScan(primary: pipeline, engines: engines).run(captures, progress: progress)
    }
    var warnings: [String] = []
    let start = Date()
    pipeline.engine.setDeadline(1)  // the first packet starts the timeline clock
    for (i, f) in files.enumerated() {
      let size = regularFileSize(f)
      let warning = captures.feed(i, engine: pipeline.engine) { offset in
        self.pipeline.engine.setDeadline(self.pipeline.sampleTimelines())
        progress?(
          ScanProgress(
            file: f, offset: offset, size: size, packets: self.pipeline.engine.counters.packets,
            elapsed: Date().timeIntervalSince(start)))
      }
      if let warning { warnings.append(warning) }
    }
    return pipeline.finish(files: files, warnings: warnings)
  }
}

/// The text of a NUL-terminated C buffer.
func cText(_ buf: [CChar]) -> String {
  String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
