import Foundation
import MinewatchKit

/// One alert: its kind, when (packet time), and its fields in a stable order. The JSON form
/// uses the scan report's field names.
public struct Alert: @unchecked Sendable {
  public enum Kind: String, Sendable {
    case sessionStart = "session_start"
    case hostUpdate = "host_update"
    case sessionEnd = "session_end"
    case summary
    case captureDrops = "capture_drops"
    case hostTable = "host_table"
    /// A finding's packets written and hashed into the evidence log.
    case evidence
    /// An active verification's verdict on a suspect endpoint, with every probe it made.
    case verify
  }

  /// RFC 5424 severities.
  public enum Severity: Int, Sendable {
    case warning = 4
    case notice = 5
    case info = 6
  }

  public let kind: Kind
  public let severity: Severity
  public let timeNs: UInt64
  /// key=value pairs, for syslog (structured data and text), in the order given.
  public let fields: [(String, String)]
  /// The JSON line, encoded from the typed record (sorted keys).
  public let line: Data
  /// The same line as JSON values, for syslog's fields and for readers that look one up.
  public let json: [String: Any]
  /// The sensor that raised it, once the dispatcher has stamped it (`sensor`, the host name by
  /// default): many sensors' logs then add up without losing where each alert came from.
  public let sensor: String?
  private let keys: [String]
  private let encode: (String?) -> Data

  /// An alert of a typed record; `keys` are the fields syslog carries, in order.
  public init<Body: AlertBody>(kind: Kind, severity: Severity, timeNs: UInt64, body: Body, keys: [String]) {
    let time = ScanReport.iso8601(timeNs)
    self.init(kind: kind, severity: severity, timeNs: timeNs, keys: keys, sensor: nil) { sensor in
      let envelope = Envelope(event: kind.rawValue, time: time, sensor: sensor, body: body)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      // Records hold strings, integers and finite numbers only: encoding cannot fail.
      return (try? encoder.encode(envelope)) ?? Data(#"{"event":"\#(kind.rawValue)"}"#.utf8)
    }
  }

  private init(
    kind: Kind, severity: Severity, timeNs: UInt64, keys: [String], sensor: String?,
    encode: @escaping (String?) -> Data
  ) {
    self.kind = kind
    self.severity = severity
    self.timeNs = timeNs
    self.keys = keys
    self.sensor = sensor
    self.encode = encode
    line = encode(sensor)
    let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] ?? [:]
    json = object
    var fields: [(String, String)] = [("event", kind.rawValue)]
    if let sensor { fields.append(("sensor", sensor)) }
    for k in keys {
      if let v = object[k], let text = Alert.text(v) { fields.append((k, text)) }
    }
    self.fields = fields
  }

  /// The same alert, naming the sensor that raised it.
  public func stamped(sensor: String) -> Alert {
    Alert(kind: kind, severity: severity, timeNs: timeNs, keys: keys, sensor: sensor, encode: encode)
  }

  /// The record with the alert's event, time and sensor beside its own fields.
  private struct Envelope<Body: Encodable>: Encodable {
    let event: String
    let time: String
    let sensor: String?
    let body: Body
    enum Keys: String, CodingKey { case event, time, sensor }
    func encode(to encoder: Encoder) throws {
      try body.encode(to: encoder)
      var c = encoder.container(keyedBy: Keys.self)
      try c.encode(event, forKey: .event)
      try c.encode(time, forKey: .time)
      try c.encodeIfPresent(sensor, forKey: .sensor)
    }
  }

  /// A field's value as text; null is left out.
  static func text(_ v: Any) -> String? {
    if let b = v as? Bool, type(of: v) == Bool.self { return b ? "true" : "false" }
    switch v {
    case is NSNull: return nil
    case let s as String: return s
    case let a as [Any]: return a.compactMap(text).joined(separator: ",")
    case let d as [String: Any]:
      return d.keys.sorted().compactMap { k in text(d[k]!).map { "\(k):\($0)" } }.joined(separator: ",")
    case let n as NSNumber:
      if String(cString: n.objCType) == "c" { return n.boolValue ? "true" : "false" }  // JSON's true, parsed
      let d = n.doubleValue
      if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
      return String(format: "%.6g", d)
    default: return "\(v)"
    }
  }

  public var jsonLine: String { String(decoding: line, as: UTF8.self) }
}

/// Where alerts go: syslog (queued while unreachable, bounded and counted) and, optionally, a
/// JSON-lines file for a SIEM.
public final class AlertDispatcher {
  private let transport: SyslogTransport
  private let config: DaemonConfig
  private let hostname: String
  /// The name every alert carries (config `sensor`, the host name by default).
  public let sensor: String
  private var queue: [String] = []
  private var queueHead = 0
  private var jsonFile: FileHandle?
  public private(set) var sent = 0
  public private(set) var dropped = 0
  public private(set) var delivered: [Alert] = []
  /// Keeps the alerts in memory too (tests and --replay).
  public var keepDelivered = false

  public init(config: DaemonConfig) throws {
    self.config = config
    transport = SyslogTransport(target: config.syslog, framing: config.syslogFormat)
    hostname = DaemonConfig.hostName
    sensor = config.sensorName
    jsonFile = try config.jsonLog.map(Self.openForAppending)
  }

  /// The JSON log, created when missing, positioned at its end.
  private static func openForAppending(_ path: String) throws -> FileHandle {
    if !FileManager.default.fileExists(atPath: path) {
      guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw MinewatchError.usage("json_log: cannot create \(path)")
      }
    }
    guard let h = FileHandle(forWritingAtPath: path) else {
      throw MinewatchError.usage("json_log: cannot write \(path)")
    }
    h.seekToEndOfFile()
    return h
  }

  /// SIGHUP: the JSON log is opened again by name, so a rotation (logrotate renames the file,
  /// then signals) continues in a new file; on failure the old handle stays.
  public func reopenJSONLog() throws {
    guard let path = config.jsonLog else { return }
    let h = try Self.openForAppending(path)
    try? jsonFile?.close()
    jsonFile = h
  }

  /// JSON lines that could not be written (a full disk): counted, said in summaries.
  public private(set) var jsonWriteFailures = 0

  public var queued: Int { queue.count - queueHead }

  public func send(_ unstamped: Alert) {
    let alert = unstamped.stamped(sensor: sensor)
    if keepDelivered { delivered.append(alert) }
    if let jsonFile {
      do {
        try jsonFile.write(contentsOf: Data((alert.jsonLine + "\n").utf8))
      } catch {
        jsonWriteFailures += 1
      }
    }
    let message = SyslogMessage.format(
      alert, format: config.syslogFormat, facility: config.syslogFacility, ident: config.syslogIdent,
      hostname: hostname, pid: getpid())
    if queued > 0 || !transport.send(message) {
      enqueue(message)
    } else {
      sent += 1
    }
  }

  private func enqueue(_ m: String) {
    if queued >= config.queueLimit {
      queueHead += 1  // the oldest goes: counted, and said in the next summary
      dropped += 1
    }
    queue.append(m)
  }

  /// Sends what waited while syslog was away, oldest first; stops at the first failure.
  @discardableResult
  public func drain() -> Int {
    var n = 0
    while queueHead < queue.count {
      guard transport.send(queue[queueHead]) else { break }
      queueHead += 1
      sent += 1
      n += 1
    }
    if queueHead > 1024 && queueHead * 2 > queue.count {
      queue.removeFirst(queueHead)
      queueHead = 0
    }
    return n
  }
}
