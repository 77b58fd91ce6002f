import Foundation

/// One finding's packets as a classic pcap file (nanosecond timestamps, the capture's link
/// type), hashed as it is written so the digest needs no second read. Created exclusively:
/// an existing file is never overwritten.
final class EvidenceFile {
  let path: String
  let name: String
  private let fd: Int32
  private let hasher = SHA256()
  private var buffer: [UInt8] = []
  private(set) var bytes = 0
  private(set) var packets = 0
  private(set) var failed = false
  private let snaplen: UInt32

  init?(directory: String, name: String, linkType: Int32, snaplen: UInt32 = 262_144) {
    self.name = name
    path = directory + "/" + name
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
    guard fd >= 0 else { return nil }
    self.snaplen = snaplen
    // pcap-savefile(5): magic (nanosecond variant), version 2.4, zone, sigfigs, snaplen, link.
    append32(0xa1b2_3c4d)
    append16(2)
    append16(4)
    append32(0)
    append32(0)
    append32(snaplen)
    append32(UInt32(bitPattern: linkType))
  }

  deinit { if fd >= 0 { close(fd) } }

  private func append32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { buffer += $0 } }
  private func append16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { buffer += $0 } }

  /// Appends one frame; the record is cut to the file's snaplen like any capture's.
  func write(timestampNs: UInt64, frame: UnsafeRawBufferPointer, wireLength: UInt32) {
    let cap = min(frame.count, Int(snaplen))
    append32(UInt32(truncatingIfNeeded: timestampNs / 1_000_000_000))
    append32(UInt32(timestampNs % 1_000_000_000))
    append32(UInt32(cap))
    append32(max(wireLength, UInt32(cap)))
    buffer += UnsafeRawBufferPointer(rebasing: frame[0..<cap])
    packets += 1
    if buffer.count >= 1 << 16 { flush() }
  }

  /// Bytes the file holds once the buffer is written.
  var size: Int { bytes + buffer.count }

  private func flush() {
    guard !buffer.isEmpty, !failed else { return }
    let ok = buffer.withUnsafeBytes { raw -> Bool in
      var off = 0
      while off < raw.count {
        let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        off += n
      }
      return true
    }
    if ok {
      buffer.withUnsafeBytes { hasher.update($0) }
      bytes += buffer.count
    } else {
      failed = true
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Writes what is buffered, syncs and returns the file's SHA-256 (nil when a write failed).
  func finish() -> String? {
    flush()
    guard !failed, fsync(fd) == 0 else { return nil }
    return hasher.hexDigest()
  }
}
