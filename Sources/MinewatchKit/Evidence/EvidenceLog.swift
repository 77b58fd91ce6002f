import Foundation

/// One evidence file as the log records it.
public struct EvidenceRecord: Codable, Sendable, Equatable {
  public var seq: Int
  public var time: String
  public var file: String
  public var sha256: String
  public var bytes: Int
  public var packets: Int
  public var host: String
  public var pool: String
  public var prev: String
  public var chain: String

  /// What the chain hashes: the previous link and every field that names the evidence, so
  /// editing, removing or reordering a line breaks every link after it.
  static func link(
    prev: String, seq: Int, time: String, file: String, sha256: String, bytes: Int, packets: Int,
    host: String, pool: String
  ) -> String {
    SHA256.hex(of: Array("\(prev)|\(seq)|\(time)|\(file)|\(sha256)|\(bytes)|\(packets)|\(host)|\(pool)".utf8))
  }

  /// One line of evidence.log (sorted keys, so the same record is always the same bytes).
  var jsonLine: String {
    String(decoding: (try? ScanReport.encoder().encode(self)) ?? Data(), as: UTF8.self)
  }

  init(
    seq: Int, time: String, file: String, sha256: String, bytes: Int, packets: Int, host: String,
    pool: String, prev: String
  ) {
    self.seq = seq
    self.time = time
    self.file = file
    self.sha256 = sha256
    self.bytes = bytes
    self.packets = packets
    self.host = host
    self.pool = pool
    self.prev = prev
    chain = Self.link(
      prev: prev, seq: seq, time: time, file: file, sha256: sha256, bytes: bytes, packets: packets,
      host: host, pool: pool)
  }

  /// A line as written, its chain value included (verification recomputes it).
  init?(json line: Substring) {
    guard let r = try? JSONDecoder().decode(EvidenceRecord.self, from: Data(line.utf8)) else { return nil }
    self = r
  }
}

/// The append-only, hash-chained list of evidence files (`evidence.log` in the evidence
/// directory). Each line carries the previous line's chain value, so a line removed, edited or
/// moved shows at verification; `minewatch evidence verify` checks the chain and every file.
public final class EvidenceLog {
  public static let fileName = "evidence.log"
  public static let genesis = String(repeating: "0", count: 64)
  let path: String
  private(set) var last: (seq: Int, chain: String) = (0, EvidenceLog.genesis)
  /// A problem found in the existing log when it was opened (the chain continues after it).
  public private(set) var openWarning: String?

  public init(directory: String) throws {
    path = directory + "/" + Self.fileName
    if let text = try? String(contentsOfFile: path, encoding: .utf8) {
      let v = Self.verifyChain(text)
      if let p = v.problems.first { openWarning = "\(path): \(p); appending after the last line" }
      if let r = v.records.last { last = (r.seq, r.chain) }
    }
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    guard fd >= 0 else {
      throw MinewatchError.unreadable(
        "\(path): cannot open for appending: \(String(cString: strerror(errno)))")
    }
    close(fd)
  }

  /// Appends a record for a finished file and syncs it to disk.
  func append(
    file: String, sha256: String, bytes: Int, packets: Int, host: String, pool: String, atNs: UInt64
  )
    -> EvidenceRecord?
  {
    let r = EvidenceRecord(
      seq: last.seq + 1, time: ScanReport.iso8601(atNs), file: file, sha256: sha256, bytes: bytes,
      packets: packets, host: host, pool: pool, prev: last.chain)
    let line = Array((r.jsonLine + "\n").utf8)
    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    let n = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard n == line.count, fsync(fd) == 0 else { return nil }
    last = (r.seq, r.chain)
    return r
  }

  /// Parses a log and checks each link; problems name the line.
  public static func verifyChain(_ text: String) -> (records: [EvidenceRecord], problems: [String]) {
    var records: [EvidenceRecord] = []
    var problems: [String] = []
    var prev = genesis
    for (i, line) in text.split(separator: "\n").enumerated() {
      guard let r = EvidenceRecord(json: line) else {
        problems.append("line \(i + 1): not an evidence record")
        continue
      }
      let expected = EvidenceRecord.link(
        prev: r.prev, seq: r.seq, time: r.time, file: r.file, sha256: r.sha256, bytes: r.bytes,
        packets: r.packets, host: r.host, pool: r.pool)
      if r.prev != prev {
        problems.append("line \(i + 1): does not follow the line before (a line removed or moved)")
      }
      if r.chain != expected {
        problems.append("line \(i + 1): chain value does not match its fields (edited)")
      }
      prev = r.chain
      records.append(r)
    }
    return (records, problems)
  }

  /// Checks a directory: the chain, and every file against its recorded digest.
  public static func verify(directory: String) throws -> (records: Int, problems: [String]) {
    let logPath = directory + "/" + fileName
    guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else {
      throw MinewatchError.unreadable("\(logPath): cannot read")
    }
    var (records, problems) = verifyChain(text)
    for r in records {
      // A name from the log must stay inside the directory.
      guard !r.file.contains("/"), r.file != "..", r.file != "." else {
        problems.append("seq \(r.seq): file name '\(r.file)' is not a plain name")
        continue
      }
      guard let digest = SHA256.hex(ofFile: directory + "/" + r.file) else {
        problems.append("seq \(r.seq): \(r.file) is missing")
        continue
      }
      if digest != r.sha256 {
        problems.append("seq \(r.seq): \(r.file) does not match its SHA-256 (modified)")
      }
    }
    return (records.count, problems)
  }
}
