import MinewatchCore

/// The session layer driven by raw bytes, for the fuzzer: each line goes through the C
/// matcher's verdict and the families' dissectors into one session, both directions, then into
/// a report.
public enum SessionProbe {
  public static func feed(_ data: UnsafeRawBufferPointer, signatures: Signatures) {
    let a = Endpoint(ip: IPAddress(family: 4, bytes: [10, 0, 0, 1]), port: 40000)
    let b = Endpoint(ip: IPAddress(family: 4, bytes: [203, 0, 113, 5]), port: 3333)
    let s = MiningSession(flowID: 1, slot: 0, a: a, b: b, at: 1)
    var at: UInt64 = 1_000_000_000
    for (i, line) in data.split(separator: 0x0A).enumerated() {
      let bytes = Array(line)
      var top = mw_json_top()
      var method: UInt16 = 0
      var fields = mw_fields()
      let ok = mw_json_scan_top(bytes, bytes.count, &top) == MW_JSON_OK
      if ok && top.has_method != 0 {
        method = bytes.withUnsafeBufferPointer {
          mw_method_lookup($0.baseAddress! + Int(top.method_off), Int(top.method_len))
        }
      }
      if ok { mw_message_fields(bytes, bytes.count, method, &fields) }
      at += 1_000_000_000
      s.apply(
        methodID: method, message: ok ? MiningMessage(line: bytes, fields: fields) : nil, fromA: i % 2 == 0,
        at: at)
    }
    s.stats = FlowStats(
      bytesFromA: 1, bytesFromB: 1, packetsFromA: 1, packetsFromB: 1, firstNs: 1, lastNs: at,
      carriedPayload: true)
    let tracker = SessionTracker(signatures: signatures)
    if let r = ReportBuilder(tracker: tracker, names: nil).session(s) {
      _ = try? ScanReport.encoder().encode(SessionRecord(r))
    }
  }
}
