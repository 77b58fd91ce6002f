import Foundation

/// The part of JSON Schema (2020-12) the report's and the alerts' schemas use: type (also as a
/// list), enum, required, properties, additionalProperties (false or a schema), items, oneOf;
/// an enum allows null when the type does. Returns the paths that break it; empty means valid.
struct SchemaValidator {
  let schema: [String: Any]

  init(url: URL) throws {
    schema = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
  }

  func validate(_ value: Any) -> [String] { check(value, schema, "$") }

  private func typeName(_ v: Any) -> String {
    if type(of: v) == Bool.self { return "boolean" }
    switch v {
    case is NSNull: return "null"
    case is String: return "string"
    case let n as NSNumber:
      if String(cString: n.objCType) == "c" { return "boolean" }  // how Foundation keeps JSON's true
      return n.doubleValue == n.doubleValue.rounded() && !"\(n)".contains(".") ? "integer" : "number"
    case is [Any]: return "array"
    case is [String: Any]: return "object"
    default: return "unknown"
    }
  }

  private func check(_ v: Any, _ s: [String: Any], _ path: String) -> [String] {
    var errors: [String] = []
    if let alternatives = s["oneOf"] as? [[String: Any]] {
      // Exactly one must hold; when none does, the errors of the closest one are shown.
      let results = alternatives.map { check(v, $0, path) }
      let valid = results.filter(\.isEmpty).count
      if valid == 1 { return [] }
      if valid > 1 { return ["\(path): matches \(valid) alternatives of oneOf"] }
      return results.min { $0.count < $1.count } ?? ["\(path): no alternative"]
    }
    if let t = s["type"] {
      let allowed = (t as? [String]) ?? [t as? String ?? ""]
      let actual = typeName(v)
      let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
      if !ok { return ["\(path): \(actual), expected \(allowed)"] }
    }
    if let e = s["enum"] as? [String], !(v is NSNull), !e.contains(v as? String ?? "\u{0}") {
      errors.append("\(path): \(v) not in \(e)")
    }
    if let obj = v as? [String: Any] {
      for r in s["required"] as? [String] ?? [] where obj[r] == nil { errors.append("\(path).\(r): missing") }
      let props = s["properties"] as? [String: Any] ?? [:]
      for (k, child) in obj {
        if let ps = props[k] as? [String: Any] {
          errors += check(child, ps, "\(path).\(k)")
        } else if let extra = s["additionalProperties"] as? [String: Any] {
          errors += check(child, extra, "\(path).\(k)")
        } else if (s["additionalProperties"] as? Bool) == false {
          errors.append("\(path).\(k): not in the schema")
        }
      }
    }
    if let arr = v as? [Any], let items = s["items"] as? [String: Any] {
      for (i, child) in arr.enumerated() { errors += check(child, items, "\(path)[\(i)]") }
    }
    return errors
  }
}
