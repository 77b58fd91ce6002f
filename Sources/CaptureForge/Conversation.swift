import Foundation

/// A TCP connection written packet by packet: handshake, data each way with correct sequence
/// numbers, and the faults real captures have (retransmissions, reordering, split lines).
public final class Conversation {
  public let client: Peer
  public let server: Peer
  let writer: PcapWriter
  public var timeNs: UInt64
  private var clientSeq: UInt32
  private var serverSeq: UInt32
  public var mss = 1400

  public init(writer: PcapWriter, client: Peer, server: Peer, startNs: UInt64, handshake: Bool = true) {
    self.writer = writer
    self.client = client
    self.server = server
    timeNs = startNs
    clientSeq = 1000
    serverSeq = 5_000_000
    if handshake {
      emit(fromClient: true, flags: PacketBuilder.syn, payload: [], seq: clientSeq &- 1)
      emit(fromClient: false, flags: PacketBuilder.syn | PacketBuilder.ack, payload: [], seq: serverSeq &- 1)
      emit(fromClient: true, flags: PacketBuilder.ack, payload: [], seq: clientSeq)
    }
  }

  private func emit(fromClient: Bool, flags: UInt8, payload: [UInt8], seq: UInt32) {
    let frame = PacketBuilder.tcp(
      link: writer.link, from: fromClient ? client : server, to: fromClient ? server : client,
      seq: seq, ack: fromClient ? serverSeq : clientSeq, flags: flags, payload: payload)
    writer.write(frame: frame, timeNs: timeNs)
    timeNs += 1000
  }

  /// Sends bytes as segments of at most `mss`; returns the segments' (seq, bytes) for replays.
  @discardableResult
  public func send(fromClient: Bool, _ bytes: [UInt8], segment: Int? = nil) -> [(UInt32, [UInt8])] {
    var out: [(UInt32, [UInt8])] = []
    let size = max(1, segment ?? mss)
    var i = 0
    while i < bytes.count {
      let chunk = Array(bytes[i..<min(i + size, bytes.count)])
      let seq = fromClient ? clientSeq : serverSeq
      emit(fromClient: fromClient, flags: PacketBuilder.psh | PacketBuilder.ack, payload: chunk, seq: seq)
      out.append((seq, chunk))
      if fromClient { clientSeq &+= UInt32(chunk.count) } else { serverSeq &+= UInt32(chunk.count) }
      i += size
    }
    return out
  }

  public func send(fromClient: Bool, line: String, segment: Int? = nil) {
    send(fromClient: fromClient, Array((line + "\n").utf8), segment: segment)
  }

  /// Writes a segment again exactly as it was (a retransmission).
  public func resend(fromClient: Bool, seq: UInt32, _ bytes: [UInt8]) {
    emit(fromClient: fromClient, flags: PacketBuilder.psh | PacketBuilder.ack, payload: bytes, seq: seq)
  }

  /// Sends a line as two segments written in the wrong order.
  public func sendReordered(fromClient: Bool, line: String) {
    let bytes = Array((line + "\n").utf8)
    let half = bytes.count / 2
    let seq = fromClient ? clientSeq : serverSeq
    emit(
      fromClient: fromClient, flags: PacketBuilder.ack, payload: Array(bytes[half...]),
      seq: seq &+ UInt32(half))
    emit(fromClient: fromClient, flags: PacketBuilder.ack, payload: Array(bytes[..<half]), seq: seq)
    if fromClient { clientSeq &+= UInt32(bytes.count) } else { serverSeq &+= UInt32(bytes.count) }
  }

  public func advance(seconds: Double) { timeNs += UInt64(seconds * 1e9) }

  /// A connection the server refuses: SYN, then RST (a miner retrying a dead pool leaves a
  /// trail of these).
  public static func refused(writer: PcapWriter, client: Peer, server: Peer, atNs: UInt64) {
    let c = Conversation(writer: writer, client: client, server: server, startNs: atNs, handshake: false)
    c.emit(fromClient: true, flags: PacketBuilder.syn, payload: [], seq: c.clientSeq &- 1)
    c.emit(fromClient: false, flags: PacketBuilder.rst | PacketBuilder.ack, payload: [], seq: 0)
  }

  public func close() {
    emit(fromClient: true, flags: PacketBuilder.fin | PacketBuilder.ack, payload: [], seq: clientSeq)
    emit(fromClient: false, flags: PacketBuilder.fin | PacketBuilder.ack, payload: [], seq: serverSeq)
  }
}

/// DNS messages (RFC 1035) for lookups in forged captures.
public enum DNSMessage {
  static func name(_ n: String) -> [UInt8] {
    var out: [UInt8] = []
    for label in n.split(separator: ".") {
      out.append(UInt8(label.utf8.count))
      out += Array(label.utf8)
    }
    return out + [0]
  }

  public static func query(id: UInt16, name n: String) -> [UInt8] {
    be16(id) + [0x01, 0x00] + be16(1) + be16(0) + be16(0) + be16(0) + name(n) + be16(1) + be16(1)
  }

  /// A response: the question, then CNAME records along `cnames` and A records at its end.
  public static func answer(
    id: UInt16, name n: String, cnames: [String] = [], addresses: [[UInt8]], ttl: UInt32
  ) -> [UInt8] {
    var records: [UInt8] = []
    var owner = n
    for target in cnames {
      let rdata = name(target)
      records += name(owner) + be16(5) + be16(1) + be32(ttl) + be16(UInt16(rdata.count)) + rdata
      owner = target
    }
    for a in addresses {
      records += name(owner) + be16(a.count == 4 ? 1 : 28) + be16(1) + be32(ttl) + be16(UInt16(a.count)) + a
    }
    let count = UInt16(cnames.count + addresses.count)
    return be16(id) + [0x81, 0x80] + be16(1) + be16(count) + be16(0) + be16(0) + name(n) + be16(1) + be16(1)
      + records
  }
}

/// A TLS 1.2/1.3 ClientHello record carrying a server name (RFC 8446, RFC 6066).
public enum TLSClientHello {
  public static func record(serverName: String) -> [UInt8] {
    let host = Array(serverName.utf8)
    let sniEntry: [UInt8] = [0] + be16(UInt16(host.count)) + host
    let sni: [UInt8] = be16(0) + be16(UInt16(sniEntry.count + 2)) + be16(UInt16(sniEntry.count)) + sniEntry
    let padding: [UInt8] = be16(21) + be16(200) + [UInt8](repeating: 0, count: 200)
    let extensions = sni + padding
    var body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: 7, count: 32) + [0]
    body += be16(4) + [0x13, 0x01, 0x13, 0x02] + [1, 0] + be16(UInt16(extensions.count)) + extensions
    let hs: [UInt8] = [1, 0] + be16(UInt16(body.count)) + body
    return [0x16, 0x03, 0x01] + be16(UInt16(hs.count)) + hs
  }
}
