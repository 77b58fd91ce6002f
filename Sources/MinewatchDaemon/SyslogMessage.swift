import Foundation
import MinewatchKit

/// One alert as a syslog message: RFC 5424 with structured data (and the same fields readable
/// as key=value in the message), or RFC 3164 for old receivers.
public struct SyslogMessage: Sendable {
  /// Private Enterprise Number 32473 is reserved for documentation (RFC 5612): the SD-ID an
  /// operator without a number of their own can use.
  static let sdID = "minewatch@32473"

  public static func format(
    _ alert: Alert, format: DaemonConfig.SyslogFormat, facility: Int, ident: String, hostname: String,
    pid: Int32
  ) -> String {
    let pri = facility * 8 + alert.severity.rawValue
    let text = alert.fields.map { "\($0.0)=\(quoteText($0.1))" }.joined(separator: " ")
    switch format {
    case .rfc5424:
      let sd =
        "[" + sdID + " " + alert.fields.map { "\($0.0)=\"\(escapeSD($0.1))\"" }.joined(separator: " ") + "]"
      return
        "<\(pri)>1 \(ScanReport.iso8601(alert.timeNs)) \(hostname) \(ident) \(pid) \(alert.kind.rawValue) \(sd) \(text)"
    case .rfc3164:
      return "<\(pri)>\(bsdTimestamp(alert.timeNs)) \(hostname) \(ident)[\(pid)]: \(text)"
    }
  }

  /// SD-PARAM values escape '"', '\' and ']' (RFC 5424 section 6.3.3).
  static func escapeSD(_ s: String) -> String {
    var out = ""
    for c in s {
      if c == "\"" || c == "\\" || c == "]" { out.append("\\") }
      out.append(c)
    }
    return out
  }

  /// key=value text: values with blanks or quotes are quoted.
  static func quoteText(_ s: String) -> String {
    guard s.isEmpty || s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      + "\""
  }

  /// "Mmm dd hh:mm:ss" in UTC (RFC 3164 has no zone; UTC keeps gateways comparable).
  static func bsdTimestamp(_ ns: UInt64) -> String {
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    var t = time_t(ns / 1_000_000_000)
    var tm = tm()
    gmtime_r(&t, &tm)
    return months[Int(tm.tm_mon)]
      + String(format: " %2d %02d:%02d:%02d", tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
  }
}
