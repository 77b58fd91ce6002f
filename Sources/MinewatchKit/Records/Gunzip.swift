import CZlib
import Foundation

/// gzip data inflated (logrotate's compressed logs), at most `limit` bytes of it: a small file
/// that inflates without end is refused, not followed.
enum Gunzip {
  static func isGzip(_ data: Data) -> Bool {
    data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
  }

  enum Failure: Error, Equatable {
    case corrupt(String)
    case tooLarge(Int)
  }

  static func inflate(_ data: Data, limit: Int) throws(Failure) -> Data {
    var stream = z_stream()
    // 16 + 15: a gzip wrapper around a 32 KiB window.
    guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else {
      throw .corrupt("cannot start zlib")
    }
    defer { inflateEnd(&stream) }
    var out = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    // zlib reads next_in and never writes it: the input is not copied to make it mutable.
    let status: Int32 = data.withUnsafeBytes { raw in
      let inBuf = raw.bindMemory(to: Bytef.self)
      stream.next_in = inBuf.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
      stream.avail_in = uInt(inBuf.count)
      var rc: Int32 = Z_OK
      while rc == Z_OK {
        rc = chunk.withUnsafeMutableBufferPointer { outBuf in
          stream.next_out = outBuf.baseAddress
          stream.avail_out = uInt(outBuf.count)
          let r = CZlib.inflate(&stream, Z_NO_FLUSH)
          out.append(outBuf.baseAddress!, count: outBuf.count - Int(stream.avail_out))
          return r
        }
        if out.count > limit { return Z_MEM_ERROR }
        // Another gzip member follows (files concatenated): go on with it.
        if rc == Z_STREAM_END && stream.avail_in > 0 {
          rc = inflateReset(&stream)
        }
      }
      return rc
    }
    if out.count > limit { throw .tooLarge(limit) }
    guard status == Z_STREAM_END else {
      throw .corrupt(stream.msg.map { String(cString: $0) } ?? "the data ends early or is damaged")
    }
    return out
  }
}
