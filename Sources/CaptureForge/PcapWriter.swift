import Foundation

/// Link layers the forge can frame packets in (LINKTYPE_ numbers from pcap-linktype(7)).
public enum LinkLayer: Sendable {
  case ethernet(vlans: [UInt16])
  case linuxSLL
  case linuxSLL2
  case raw
  case null
  /// Any other link type: frames are written as given (tunnel and serial-line tests).
  case other(UInt32)

  public var linkType: UInt32 {
    switch self {
    case .other(let t): return t
    case .ethernet: return 1
    case .linuxSLL: return 113
    case .linuxSLL2: return 276
    case .raw: return 101
    case .null: return 0
    }
  }

  /// The link header in front of an IP packet of the given version.
  func header(ipVersion: Int) -> [UInt8] {
    let ethertype: UInt16 = ipVersion == 6 ? 0x86DD : 0x0800
    switch self {
    case .ethernet(let vlans):
      var h: [UInt8] = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]
      for (i, vid) in vlans.enumerated() {
        // The outer tag of a stack is 802.1ad (QinQ), inner ones 802.1Q.
        h += be16(i == 0 && vlans.count > 1 ? 0x88A8 : 0x8100)
        h += be16(vid & 0x0fff)
      }
      return h + be16(ethertype)
    case .linuxSLL:
      return be16(0) + be16(1) + be16(6) + [2, 0, 0, 0, 0, 1, 0, 0] + be16(ethertype)
    case .linuxSLL2:
      return be16(ethertype) + be16(0) + be32(2) + be16(1) + [0, 6] + [2, 0, 0, 0, 0, 1, 0, 0]
    case .raw, .other:
      return []
    case .null:
      let family: UInt32 = ipVersion == 6 ? 10 : 2  // host order, as BSD writes it
      return [UInt8(family & 0xff), 0, 0, 0]
    }
  }
}

func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
func be32(_ v: UInt32) -> [UInt8] {
  [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
}
func le32(_ v: UInt32) -> [UInt8] {
  [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)]
}
func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }

/// Writes a classic pcap file (microsecond or nanosecond timestamps) into memory or a file,
/// buffering so that hundreds of megabytes write at disk speed.
public final class PcapWriter {
  public let link: LinkLayer
  public let nanosecond: Bool
  public let snaplen: UInt32
  private var buffer: [UInt8] = []
  private let handle: FileHandle?
  public private(set) var packets = 0
  /// When set, frames are held and written in timestamp order on close (several
  /// conversations written one after another then interleave as on a real link).
  public var sortByTime = false
  private var held: [(UInt64, Int, [UInt8], Int)] = []
  public private(set) var bytesWritten = 0

  /// In memory: read `data` at the end.
  public init(link: LinkLayer, nanosecond: Bool = false, snaplen: UInt32 = 262144) {
    self.link = link
    self.nanosecond = nanosecond
    self.snaplen = snaplen
    handle = nil
    writeHeader()
  }

  /// To a file, flushed as it grows.
  public init(path: String, link: LinkLayer, nanosecond: Bool = false, snaplen: UInt32 = 262144) throws {
    self.link = link
    self.nanosecond = nanosecond
    self.snaplen = snaplen
    guard FileManager.default.createFile(atPath: path, contents: nil),
      let h = FileHandle(forWritingAtPath: path)
    else {
      throw CocoaError(.fileWriteNoPermission)
    }
    handle = h
    buffer.reserveCapacity(1 << 21)
    writeHeader()
  }

  private func writeHeader() {
    buffer += le32(nanosecond ? 0xa1b2_3c4d : 0xa1b2_c3d4) + le16(2) + le16(4) + le32(0) + le32(0)
    buffer += le32(snaplen) + le32(link.linkType)
  }

  /// Appends one frame; `caplen` below the frame's length cuts it as a snaplen would.
  public func write(frame: [UInt8], timeNs: UInt64, caplen: Int? = nil) {
    if sortByTime {
      held.append((timeNs, held.count, frame, caplen ?? frame.count))
      return
    }
    let cap = min(caplen ?? frame.count, frame.count, Int(snaplen))
    let sec = UInt32(truncatingIfNeeded: timeNs / 1_000_000_000)
    let frac = timeNs % 1_000_000_000
    buffer += le32(sec) + le32(UInt32(nanosecond ? frac : frac / 1000))
    buffer += le32(UInt32(cap)) + le32(UInt32(frame.count))
    buffer += frame[0..<cap]
    packets += 1
    if handle != nil && buffer.count >= 1 << 21 { flush() }
  }

  /// Appends raw bytes as they are (for malformed-file tests).
  public func appendRaw(_ bytes: [UInt8]) { buffer += bytes }

  public func flush() {
    guard let handle else { return }
    handle.write(Data(buffer))
    bytesWritten += buffer.count
    buffer.removeAll(keepingCapacity: true)
  }

  /// Writes held frames in time order (stable for equal times).
  public func releaseHeld() {
    let frames = held.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    held = []
    sortByTime = false
    for (t, _, f, cap) in frames { write(frame: f, timeNs: t, caplen: cap) }
  }

  public func close() {
    releaseHeld()
    flush()
    try? handle?.close()
  }

  /// The whole file, for in-memory writers.
  public var data: Data {
    releaseHeld()
    return Data(buffer)
  }
}
