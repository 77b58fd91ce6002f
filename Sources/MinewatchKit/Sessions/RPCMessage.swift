import Foundation

/// One JSON-RPC line of a mining flow, as far as minewatch needs it. The C core has already
/// bounded the line's length and nesting depth.
struct RPCMessage {
  let method: String?
  /// The id as canonical text ("n:4", "s:abc"); nil when absent or null.
  let id: String?
  let params: Any?
  let result: Any?
  let error: Any?
  let object: [String: Any]

  /// For methods whose fields minewatch never reads.
  static var empty: RPCMessage {
    RPCMessage(method: nil, id: nil, params: nil, result: nil, error: nil, object: [:])
  }

  static func parse(_ bytes: [UInt8]) -> RPCMessage? {
    guard
      let obj = try? JSONSerialization.jsonObject(with: Data(bytes), options: [])
        as? [String: Any]
    else { return nil }
    let nonNull: (String) -> Any? = { key in
      guard let v = obj[key], !(v is NSNull) else { return nil }
      return v
    }
    return RPCMessage(
      method: obj["method"] as? String, id: canonicalID(obj["id"]), params: nonNull("params"),
      result: nonNull("result"), error: nonNull("error"), object: obj)
  }

  static func canonicalID(_ v: Any?) -> String? {
    switch v {
    case let s as String: return "s:" + s
    case let n as NSNumber: return "n:" + n.stringValue
    default: return nil
    }
  }

  var paramList: [Any] { params as? [Any] ?? [] }
  var paramObject: [String: Any] { params as? [String: Any] ?? [:] }

  func param(_ i: Int) -> Any? {
    let list = paramList
    return i < list.count ? list[i] : nil
  }
}

/// Reads a JSON value as a Double whether it came as a number or numeric text.
func jsonDouble(_ v: Any?) -> Double? {
  switch v {
  case let n as NSNumber: return n.doubleValue
  case let s as String: return Double(s)
  default: return nil
  }
}

/// A hexadecimal rate or number ("0x1d08a61"), or decimal text.
func hexOrDecimal(_ v: Any?) -> Double? {
  if let n = v as? NSNumber { return n.doubleValue }
  guard let s = v as? String else { return nil }
  if s.hasPrefix("0x") || s.hasPrefix("0X") { return hexValue(s.dropFirst(2)) }
  return Double(s)
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
