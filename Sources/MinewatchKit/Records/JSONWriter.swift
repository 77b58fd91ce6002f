import Foundation

/// Writes the report's JSON values (dictionaries, arrays, strings, numbers, booleans, null) as
/// pretty-printed JSON with sorted keys. Foundation's serializer takes about a millisecond per
/// host on Linux, which a hostile capture with tens of thousands of hosts turns into minutes.
/// `compact` writes one line (log records).
enum JSONWriter {
  static func write(_ value: Any, into out: inout [UInt8], indent: Int = 0, compact: Bool = false) {
    switch value {
    case is NSNull:
      out.append(contentsOf: "null".utf8)
    case let s as String:
      string(s, into: &out)
    case let b as Bool where type(of: value) == Bool.self:
      out.append(contentsOf: (b ? "true" : "false").utf8)
    case let i as Int:
      out.append(contentsOf: String(i).utf8)
    case let u as UInt64:
      out.append(contentsOf: String(u).utf8)
    case let d as Double:
      out.append(
        contentsOf: (d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)") : "null")
          .utf8)
    case let n as NSNumber:
      out.append(contentsOf: n.stringValue.utf8)
    case let a as [Any]:
      if a.isEmpty {
        out.append(contentsOf: "[]".utf8)
        return
      }
      out.append(contentsOf: (compact ? "[" : "[\n").utf8)
      for (k, v) in a.enumerated() {
        if !compact { pad(indent + 2, &out) }
        write(v, into: &out, indent: indent + 2, compact: compact)
        out.append(contentsOf: separator(last: k + 1 == a.count, compact).utf8)
      }
      if !compact { pad(indent, &out) }
      out.append(UInt8(ascii: "]"))
    case let d as [String: Any]:
      if d.isEmpty {
        out.append(contentsOf: "{}".utf8)
        return
      }
      out.append(contentsOf: (compact ? "{" : "{\n").utf8)
      let keys = d.keys.sorted()
      for (k, key) in keys.enumerated() {
        if !compact { pad(indent + 2, &out) }
        string(key, into: &out)
        out.append(contentsOf: (compact ? ":" : " : ").utf8)
        write(d[key]!, into: &out, indent: indent + 2, compact: compact)
        out.append(contentsOf: separator(last: k + 1 == keys.count, compact).utf8)
      }
      if !compact { pad(indent, &out) }
      out.append(UInt8(ascii: "}"))
    default:
      string("\(value)", into: &out)
    }
  }

  private static func separator(last: Bool, _ compact: Bool) -> String {
    compact ? (last ? "" : ",") : (last ? "\n" : ",\n")
  }

  private static func pad(_ n: Int, _ out: inout [UInt8]) {
    out += repeatElement(UInt8(ascii: " "), count: n)
  }

  /// RFC 8259 string escaping: quote, backslash and control characters.
  static func string(_ s: String, into out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for b in s.utf8 {
      switch b {
      case 0x22: out += [0x5C, 0x22]
      case 0x5C: out += [0x5C, 0x5C]
      case 0x0A: out += [0x5C, UInt8(ascii: "n")]
      case 0x0D: out += [0x5C, UInt8(ascii: "r")]
      case 0x09: out += [0x5C, UInt8(ascii: "t")]
      case 0..<0x20: out.append(contentsOf: String(format: "\\u%04x", b).utf8)
      default: out.append(b)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}
