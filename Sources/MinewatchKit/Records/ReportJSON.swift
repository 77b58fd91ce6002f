import Foundation

/// The `--format json` document. Field names and meanings are documented in README.md
/// ("JSON schema"); unknown values are null, never guessed.
extension ScanReport {
  /// UTC with milliseconds, e.g. 2025-11-23T12:13:20.010Z. Formatted by hand: ICU's
  /// formatter costs more than the rest of a large report together.
  public static func iso8601(_ ns: UInt64) -> String {
    var t = time_t(ns / 1_000_000_000)
    var tm = tm()
    gmtime_r(&t, &tm)
    return String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
      tm.tm_min, tm.tm_sec, Int(ns % 1_000_000_000 / 1_000_000))
  }

  /// Sorted keys: the same findings give the same bytes (diffable reports, repeatable tests).
  static func encoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return e
  }

  /// The document in one piece (tests, the report command's input).
  public func jsonData() throws -> Data {
    var all = Data()
    writeJSON { all.append($0) }
    return all
  }

  /// The document, written a host at a time and handed out in pieces of about a megabyte: a
  /// report of 65,000 hosts never sits in memory whole, as records or as text.
  public func writeJSON(_ sink: (Data) -> Void) {
    let encoder = Self.encoder()
    let head = ScanDocument(
      sensor: sensor, anomalies: anomalies, capture: captureRecord, totals: totalsRecord,
      units: assets.map(unitRecords),
      hosts: [])
    // Encoding cannot fail: every record holds strings, integers and finite numbers.
    var out = (try? encoder.encode(head)) ?? Data("{}".utf8)
    // Reopen the document's hosts array ("hosts":[] sorts among the keys) and stream into it.
    let marker = Data(#""hosts":[]"#.utf8)
    guard let r = out.range(of: marker) else { return sink(out) }
    let tail = out[r.upperBound...]
    out = out[..<r.lowerBound] + Data(#""hosts":["#.utf8)
    for (i, h) in hosts.enumerated() {
      if i > 0 { out.append(UInt8(ascii: ",")) }
      out.append((try? encoder.encode(hostRecord(h))) ?? Data("{}".utf8))
      out.append(UInt8(ascii: "\n"))
      if out.count >= 1 << 20 {
        sink(out)
        out.removeAll(keepingCapacity: true)
      }
    }
    out.append(UInt8(ascii: "]"))
    out.append(contentsOf: tail)
    out.append(UInt8(ascii: "\n"))
    sink(out)
  }
}
