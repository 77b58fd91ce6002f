import MinewatchCore

/// The mining methods the C registry knows (stratum_methods.c), by name.
public enum MiningMethod: String, Sendable, CaseIterable {
  case subscribe = "mining.subscribe"
  case authorize = "mining.authorize"
  case submit = "mining.submit"
  case configure = "mining.configure"
  case extranonceSubscribe = "mining.extranonce.subscribe"
  case suggestDifficulty = "mining.suggest_difficulty"
  case suggestTarget = "mining.suggest_target"
  case getTransactions = "mining.get_transactions"
  case hello = "mining.hello"
  case hashrate = "mining.hashrate"
  case noop = "mining.noop"
  case notify = "mining.notify"
  case setDifficulty = "mining.set_difficulty"
  case setTarget = "mining.set_target"
  case setExtranonce = "mining.set_extranonce"
  case setVersionMask = "mining.set_version_mask"
  case clientReconnect = "client.reconnect"
  case clientShowMessage = "client.show_message"
  case clientGetVersion = "client.get_version"
  case ethSubmitLogin = "eth_submitLogin"
  case ethLogin = "eth_login"
  case ethGetWork = "eth_getWork"
  case ethSubmitWork = "eth_submitWork"
  case ethSubmitHashrate = "eth_submitHashrate"
  case cnLogin = "login"
  case cnSubmit = "submit"
  case cnGetJob = "getjob"
  case cnKeepalived = "keepalived"
  case cnJob = "job"
  case getwork = "getwork"
  case getBlockTemplate = "getblocktemplate"
  case submitBlock = "submitblock"

  /// By the C registry's id (index + 1), built once from its names.
  private static let byID: [MiningMethod?] = (0...Int(mw_method_count())).map { id in
    mw_method_info_at(UInt16(id)).flatMap { MiningMethod(rawValue: String(cString: $0.pointee.name)) }
  }

  public static func from(id: UInt16) -> MiningMethod? { Int(id) < byID.count ? byID[Int(id)] : nil }

  /// A share: a hash the miner found.
  var isShare: Bool { self == .submit || self == .ethSubmitWork || self == .cnSubmit || self == .submitBlock }

  /// Lines that identify the miner or prove its work (evidence keeps their packets).
  var isKey: Bool {
    switch self {
    case .subscribe, .authorize, .submit, .cnLogin, .cnSubmit, .ethSubmitLogin, .ethLogin, .ethSubmitWork,
      .submitBlock:
      return true
    default: return false
    }
  }
}

/// One mining line as the C dissectors read it: the values they found, as spans of the line.
/// Nothing here parses JSON again; strings are unescaped and numbers read only when asked for.
struct MiningMessage {
  let line: [UInt8]
  let fields: mw_fields

  private func value(_ f: mw_field_id) -> mw_json_value {
    withUnsafeBytes(of: fields.v) { $0.bindMemory(to: mw_json_value.self)[Int(f.rawValue)] }
  }

  func type(_ f: mw_field_id) -> mw_json_type { mw_json_type(UInt32(value(f).type)) }

  func has(_ f: mw_field_id) -> Bool { type(f) != MW_JV_NONE }

  private func bytes(_ v: mw_json_value) -> ArraySlice<UInt8> {
    let start = Int(v.off)
    let end = start + Int(v.len)
    return end <= line.count ? line[start..<end] : []
  }

  /// A string field, unescaped; nil when absent or not a string.
  func string(_ f: mw_field_id) -> String? {
    let v = value(f)
    guard v.type == UInt8(MW_JV_STRING.rawValue) else { return nil }
    return Self.unescape(bytes(v))
  }

  /// A number, or numeric text ("0.5", "0x1d08a61"): pools and miners write both.
  func number(_ f: mw_field_id) -> Double? {
    let v = value(f)
    let text = String(decoding: bytes(v), as: UTF8.self)
    switch mw_json_type(UInt32(v.type)) {
    case MW_JV_NUMBER: return Double(text).flatMap { $0.isFinite ? $0 : nil }
    case MW_JV_STRING: return hexOrDecimal(text)
    default: return nil
    }
  }

  /// The id as canonical text ("n:4", "s:abc"); nil when absent or null.
  var id: String? {
    let v = value(MW_F_ID)
    switch mw_json_type(UInt32(v.type)) {
    case MW_JV_NUMBER: return "n:" + String(decoding: bytes(v), as: UTF8.self)
    case MW_JV_STRING: return "s:" + Self.unescape(bytes(v))
    default: return nil
    }
  }

  /// JSON string escapes (RFC 8259 section 7), surrogate pairs included; a broken escape is
  /// kept as written.
  static func unescape(_ raw: ArraySlice<UInt8>) -> String {
    guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
    var out: [UInt8] = []
    out.reserveCapacity(raw.count)
    var scalars = String.UnicodeScalarView()
    func flush() {
      if !scalars.isEmpty {
        out += Array(String(scalars).utf8)
        scalars.removeAll()
      }
    }
    var i = raw.startIndex
    func hex4(_ at: Int) -> UInt32? {
      guard at + 4 <= raw.endIndex else { return nil }
      return UInt32(String(decoding: raw[at..<at + 4], as: UTF8.self), radix: 16)
    }
    while i < raw.endIndex {
      let c = raw[i]
      guard c == UInt8(ascii: "\\"), i + 1 < raw.endIndex else {
        flush()
        out.append(c)
        i += 1
        continue
      }
      let e = raw[i + 1]
      var simple: UInt8?
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): simple = e
      case UInt8(ascii: "b"): simple = 0x08
      case UInt8(ascii: "f"): simple = 0x0C
      case UInt8(ascii: "n"): simple = 0x0A
      case UInt8(ascii: "r"): simple = 0x0D
      case UInt8(ascii: "t"): simple = 0x09
      default: break
      }
      if let simple {
        flush()
        out.append(simple)
        i += 2
        continue
      }
      if e == UInt8(ascii: "u"), var u = hex4(i + 2) {
        var used = 6
        if (0xD800..<0xDC00).contains(u), i + 8 < raw.endIndex, raw[i + 6] == UInt8(ascii: "\\"),
          raw[i + 7] == UInt8(ascii: "u"), let low = hex4(i + 8), (0xDC00..<0xE000).contains(low)
        {
          u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
          used = 12
        }
        scalars.append(Unicode.Scalar(u) ?? "\u{FFFD}")
        i += used
        continue
      }
      flush()
      out.append(c)
      i += 1
    }
    flush()
    return String(decoding: out, as: UTF8.self)
  }
}

/// A hexadecimal rate or number ("0x1d08a61"), or decimal text.
func hexOrDecimal(_ s: String) -> Double? {
  if s.hasPrefix("0x") || s.hasPrefix("0X") { return hexValue(s.dropFirst(2)) }
  return Double(s).flatMap { $0.isFinite ? $0 : nil }
}

/// The value of a hex string of any length as a Double (enough precision for targets).
func hexValue<S: StringProtocol>(_ s: S) -> Double? {
  guard !s.isEmpty, s.count <= 128 else { return nil }
  var v = 0.0
  for c in s {
    guard let d = c.hexDigitValue else { return nil }
    v = v * 16 + Double(d)
  }
  return v
}
