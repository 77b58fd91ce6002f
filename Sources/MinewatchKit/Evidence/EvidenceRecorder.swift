import Foundation
import MinewatchCore

/// How much evidence to keep: every figure bounds something.
public struct EvidenceSettings: Sendable, Equatable {
  /// Where the files and evidence.log go; nil records nothing.
  public var directory: String?
  /// The first packets of each finding, from the one that revealed it.
  public var packets = 64
  /// Later packets that carry a login or share line, after the first ones.
  public var lines = 32
  /// A finding's file is closed this long after it began (or at the session's end).
  public var seconds: UInt64 = 600
  public var maxFileBytes = 1 << 20
  /// All evidence files together; a new file is started only when a full-sized one still fits.
  public var maxTotalBytes: Int64 = 1 << 30
  /// Files written at once (each holds a descriptor).
  public var maxOpenFiles = 256

  public init(directory: String? = nil) { self.directory = directory }
}

/// Writes each finding's packets to its own pcap file and, when the file is closed, its SHA-256
/// to the hash-chained evidence log. The C core hands over the packets of marked flows only.
public final class EvidenceRecorder: SessionObserver {
  public let settings: EvidenceSettings
  let directory: String
  let log: EvidenceLog
  // Strong: the engine holds this recorder as an unretained callback context, which deinit clears.
  private let engine: CoreEngine

  private final class Recording {
    let file: EvidenceFile
    let session: MiningSession
    let host: String
    let pool: String
    var keyLinesSeen = 0
    var lines = 0
    init(file: EvidenceFile, session: MiningSession, host: String, pool: String) {
      self.file = file
      self.session = session
      self.host = host
      self.pool = pool
    }
  }
  private var recordings: [UInt32: Recording] = [:]
  /// Bytes on disk plus the full size reserved for each open file.
  private(set) var usedBytes: Int64 = 0
  public private(set) var counts: [String: UInt64] = [:]
  /// Called for each closed, logged file (the daemon's evidence alert).
  public var onRecord: ((EvidenceRecord, MiningSession) -> Void)?
  /// Problems worth a line on stderr or syslog (the first of each kind).
  public private(set) var warnings: [String] = []

  init(settings: EvidenceSettings, engine: CoreEngine) throws {
    guard let dir = settings.directory else { throw MinewatchError.usage("no evidence directory") }
    self.settings = settings
    directory = dir
    self.engine = engine
    var isDir: ObjCBool = false
    if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
      do {
        try FileManager.default.createDirectory(
          atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
      } catch {
        throw MinewatchError.unreadable(
          "\(dir): cannot create the evidence directory: \(error.localizedDescription)")
      }
    } else if !isDir.boolValue {
      throw MinewatchError.unreadable("\(dir): not a directory")
    }
    log = try EvidenceLog(directory: dir)
    if let w = log.openWarning { warnings.append(w) }
    for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    where name.hasSuffix(".pcap") {
      usedBytes += regularFileSize(dir + "/" + name) ?? 0
    }
    let ctx = Unmanaged.passUnretained(self).toOpaque()
    mw_engine_set_evidence_fn(engine.raw, evidenceTrampoline, ctx)
  }

  deinit { mw_engine_set_evidence_fn(engine.raw, nil, nil) }

  public enum Anomaly: String, CaseIterable, Sendable {
    case diskLimit = "evidence_disk_limit"
    case openLimit = "evidence_open_files_limit"
    case writeFailed = "evidence_write_failed"
  }

  private func count(_ a: Anomaly, _ warning: String) {
    if counts[a.rawValue] == nil { warnings.append(warning) }
    counts[a.rawValue, default: 0] += 1
  }

  /// `203.0.113.5_20251123T121320Z_42.pcap`: the host, the session's start, the flow.
  static func fileName(host: IPAddress, atNs: UInt64, flow: UInt32, attempt: Int) -> String {
    let stamp = ScanReport.iso8601(atNs).filter { $0 != "-" && $0 != ":" }.prefix(15) + "Z"
    let h = "\(host)".replacingOccurrences(of: ":", with: "-")
    return "\(h)_\(stamp)_\(flow)" + (attempt > 0 ? "-\(attempt)" : "") + ".pcap"
  }

  func sessionBecameReportable(_ s: MiningSession) {
    guard let client = s.client, let server = s.server, recordings[s.flowID] == nil else { return }
    guard recordings.count < settings.maxOpenFiles else {
      return count(.openLimit, "evidence: \(settings.maxOpenFiles) files open; later findings have none")
    }
    guard usedBytes + Int64(settings.maxFileBytes) <= settings.maxTotalBytes else {
      return count(
        .diskLimit,
        "evidence: \(directory) holds its limit of \(settings.maxTotalBytes) bytes; nothing is deleted")
    }
    var file: EvidenceFile?
    for attempt in 0..<8 where file == nil {
      file = EvidenceFile(
        directory: directory,
        name: Self.fileName(host: client.ip, atNs: s.firstNs, flow: s.flowID, attempt: attempt),
        linkType: mw_engine_linktype(engine.raw))
    }
    guard let file else {
      return count(
        .writeFailed, "evidence: cannot create a file in \(directory): \(String(cString: strerror(errno)))")
    }
    usedBytes += Int64(settings.maxFileBytes)
    recordings[s.flowID] = Recording(
      file: file, session: s, host: "\(client.ip)", pool: "\(server.ip):\(server.port)")
    _ = mw_engine_flow_evidence(engine.raw, s.slot, s.flowID, 1)
  }

  func sessionEnded(_ s: MiningSession) { finish(flow: s.flowID) }

  /// One packet of a marked flow, right after the engine processed it.
  func packet(flow: UInt32, atNs: UInt64, frame: UnsafeRawBufferPointer, wireLength: UInt32) {
    guard let r = recordings[flow] else { return }
    let keyLine = r.session.keyLines > r.keyLinesSeen
    r.keyLinesSeen = r.session.keyLines
    let first = r.file.packets < settings.packets
    if first || (keyLine && r.lines < settings.lines) {
      if r.file.size + 16 + frame.count > settings.maxFileBytes { return finish(flow: flow) }
      if !first { r.lines += 1 }
      r.file.write(timestampNs: atNs, frame: frame, wireLength: wireLength)
    }
    let aged = atNs >= r.session.firstNs + settings.seconds * 1_000_000_000
    if r.file.packets >= settings.packets && (r.lines >= settings.lines || aged) { finish(flow: flow) }
  }

  /// Closes a finding's file, hashes it into the log and stops the core sending its packets.
  func finish(flow: UInt32) {
    guard let r = recordings.removeValue(forKey: flow) else { return }
    _ = mw_engine_flow_evidence(engine.raw, r.session.slot, flow, 0)
    usedBytes -= Int64(settings.maxFileBytes)
    guard let digest = r.file.finish() else {
      usedBytes += Int64(r.file.bytes)
      return count(.writeFailed, "evidence: writing \(r.file.path) failed")
    }
    usedBytes += Int64(r.file.bytes)
    guard
      let record = log.append(
        file: r.file.name, sha256: digest, bytes: r.file.bytes, packets: r.file.packets, host: r.host,
        pool: r.pool, atNs: max(r.session.lastNs, r.session.firstNs))
    else {
      return count(.writeFailed, "evidence: appending to \(log.path) failed")
    }
    r.session.evidenceRecord = record
    onRecord?(record, r.session)
  }

  /// Closes every open file (the end of a scan).
  public func finishAll() {
    for flow in recordings.keys.sorted() { finish(flow: flow) }
  }
}

private func evidenceTrampoline(
  ctx: UnsafeMutableRawPointer?, flow: UInt32, ts: UInt64, data: UnsafePointer<UInt8>?, caplen: UInt32,
  wirelen: UInt32
) {
  guard let ctx, let data else { return }
  let recorder = Unmanaged<EvidenceRecorder>.fromOpaque(ctx).takeUnretainedValue()
  recorder.packet(
    flow: flow, atNs: ts, frame: UnsafeRawBufferPointer(start: data, count: Int(caplen)), wireLength: wirelen)
}
