import CCrypto
import Foundation

/// SHA-256 through libcrypto, fed piece by piece.
public final class SHA256 {
  private let ctx: OpaquePointer

  public init() {
    // Allocation failure of a few hundred bytes leaves nothing sensible to do.
    guard let c = EVP_MD_CTX_new(), EVP_DigestInit_ex(c, EVP_sha256(), nil) == 1 else {
      fatalError("libcrypto cannot initialise SHA-256")
    }
    ctx = c
  }

  deinit { EVP_MD_CTX_free(ctx) }

  public func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    EVP_DigestUpdate(ctx, base, bytes.count)
  }

  public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

  /// The digest as lower-case hex; the hasher is spent afterwards.
  public func hexDigest() -> String {
    var out = [UInt8](repeating: 0, count: 32)
    var len: UInt32 = 0
    EVP_DigestFinal_ex(ctx, &out, &len)
    return Self.hex(out.prefix(Int(len)))
  }

  public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var s: [UInt8] = []
    s.reserveCapacity(bytes.count * 2)
    for b in bytes {
      s.append(digits[Int(b >> 4)])
      s.append(digits[Int(b & 15)])
    }
    return String(decoding: s, as: UTF8.self)
  }

  public static func hex(of bytes: [UInt8]) -> String {
    let h = SHA256()
    h.update(bytes)
    return h.hexDigest()
  }

  /// The digest of a file read in pieces; nil when it cannot be read.
  public static func hex(ofFile path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    let h = SHA256()
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 { return nil }
      if n == 0 { break }
      buf.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
    return h.hexDigest()
  }
}
