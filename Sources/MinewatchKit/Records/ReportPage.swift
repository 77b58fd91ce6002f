import Foundation

/// What `minewatch report` shows, read from a scan's JSON report or the daemon's JSON log: the
/// units, each host with its timeline, the totals as the provinces published them, the evidence.
public struct ReportPage: Sendable {
  public struct Point: Sendable {
    public var ns: UInt64
    public var mbps: Double
    public var hashrate: Double?
  }

  public struct Host: Sendable {
    public var ip: String
    public var unit: String?
    public var assetClass: String?
    public var kind: String?
    public var reasons: [String] = []
    public var coins: Set<String> = []
    public var pools: Set<String> = []
    public var miners: Set<String> = []
    public var mbps: Double?
    public var rates: [String: Double] = [:]
    public var powerW: Double?
    public var firstNs: UInt64 = 0
    public var lastNs: UInt64 = 0
    public var points: [Point] = []
  }

  public struct Unit: Sendable {
    public var name: String
    public var contact: String?
    public var assetClass: String?
    public var hosts = 0
    public var coins: Set<String> = []
    public var pools = 0
    public var mbps: Double?
    public var rates: [String: Double] = [:]
    public var kWhPerDay = 0.0
  }

  public struct Evidence: Sendable {
    public var seq: Int
    public var host: String
    public var file: String
    public var sha256: String
    public var packets: Int
  }

  public var source: String
  public var startNs: UInt64 = 0
  public var endNs: UInt64 = 0
  public var hosts: [Host] = []
  public var units: [Unit] = []
  public var evidence: [Evidence] = []
  public var totalMbps: Double?
  public var totalRates: [String: Double] = [:]
  public var powerKW = 0.0
  public var kWhPerDay = 0.0
  public var coalKgPerDay = 0.0
  public var co2KgPerDay = 0.0
  /// What the totals are: a whole capture, or the mean of the daemon's summary intervals.
  public var totalsNote = ""

  /// Reads a scan report (one JSON object) or a daemon log (one alert object per line).
  public init(contentsOf path: String) throws {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw MinewatchError.unreadable("\(path): cannot read: \(error.localizedDescription)")
    }
    source = path
    if let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], obj["hosts"] != nil {
      readScan(obj)
      return
    }
    var alerts: [[String: Any]] = []
    for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
      guard let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
        obj["event"] is String
      else {
        throw MinewatchError.unreadable(
          "\(path):\(i + 1): neither a scan report (minewatch scan --format json) nor a daemon JSON log line")
      }
      alerts.append(obj)
    }
    guard !alerts.isEmpty else { throw MinewatchError.unreadable("\(path): empty") }
    readDaemonLog(alerts)
  }
}

/// Field readers that accept what JSONSerialization gives and ignore what does not fit: the
/// input may come from a hostile capture or an edited file.
extension ReportPage {
  static func str(_ v: Any?) -> String? { v as? String }
  static func num(_ v: Any?) -> Double? {
    (v as? NSNumber).map(\.doubleValue).flatMap { $0.isFinite ? $0 : nil }
  }
  static func rates(_ v: Any?) -> [String: Double] {
    var out: [String: Double] = [:]
    for (k, x) in v as? [String: Any] ?? [:] { if let d = num(x) { out[k] = d } }
    return out
  }
  static func list(_ v: Any?) -> [String] { (v as? [Any] ?? []).compactMap { $0 as? String } }

  /// Parses the report's own time format (UTC, milliseconds).
  static func ns(_ v: Any?) -> UInt64? {
    guard let s = v as? String, s.utf8.count >= 19 else { return nil }
    let c = Array(s.utf8)
    func field(_ from: Int, _ len: Int) -> Int32? {
      var v: Int32 = 0
      for b in c[from..<from + len] {
        guard b >= 0x30 && b <= 0x39 else { return nil }
        v = v * 10 + Int32(b - 0x30)
      }
      return v
    }
    guard c[4] == 0x2D, c[7] == 0x2D, c[10] == 0x54, c[13] == 0x3A, c[16] == 0x3A,
      let year = field(0, 4), let month = field(5, 2), let day = field(8, 2), let hour = field(11, 2),
      let minute = field(14, 2), let second = field(17, 2)
    else { return nil }
    var tm = tm()
    tm.tm_year = year - 1900
    tm.tm_mon = month - 1
    tm.tm_mday = day
    tm.tm_hour = hour
    tm.tm_min = minute
    tm.tm_sec = second
    let secs = timegm(&tm)
    guard secs >= 0 else { return nil }
    var ms: UInt64 = 0
    if let dot = s.firstIndex(of: "."), let v = UInt64(s[s.index(after: dot)...].prefix(3)) { ms = v }
    return UInt64(secs) * 1_000_000_000 + ms * 1_000_000
  }

  mutating func readScan(_ obj: [String: Any]) {
    let capture = obj["capture"] as? [String: Any] ?? [:]
    startNs = Self.ns(capture["start"]) ?? 0
    endNs = Self.ns(capture["end"]) ?? 0
    for h in obj["hosts"] as? [[String: Any]] ?? []
    where ["miner", "proxy", "browser-miner"].contains(Self.str(h["role"]) ?? "") {
      var host = Host(ip: Self.str(h["ip"]) ?? "?")
      host.unit = Self.str(h["unit"])
      host.assetClass = Self.str(h["asset_class"])
      host.kind = Self.str(h["kind"])
      host.reasons = Self.list(h["kind_reasons"])
      host.mbps = Self.num(h["egress_mbps"])
      host.rates = Self.rates(h["hashrate_hps_by_algorithm"])
      host.miners = Set(Self.list(h["miner_identities"]))
      var power = 0.0
      for s in h["sessions"] as? [[String: Any]] ?? [] {
        if let c = Self.str(s["coin"]) { host.coins.insert(c) }
        host.pools.insert(
          Self.str(s["pool_name"]) ?? Self.str(s["pool_domain"]) ?? Self.str(s["pool_ip"]) ?? "?")
        power += Self.num(s["power_w"]) ?? 0
        let first = Self.ns(s["first_seen"]) ?? 0
        let last = Self.ns(s["last_seen"]) ?? 0
        if host.firstNs == 0 || (first > 0 && first < host.firstNs) { host.firstNs = first }
        host.lastNs = max(host.lastNs, last)
        if let e = s["evidence_pcap"] as? [String: Any], let file = Self.str(e["file"]),
          let sha = Self.str(e["sha256"])
        {
          evidence.append(
            Evidence(
              seq: Int(Self.num(e["seq"]) ?? 0), host: host.ip, file: file, sha256: sha,
              packets: Int(Self.num(e["packets"]) ?? 0)))
        }
      }
      host.powerW = power > 0 ? power : nil
      host.points = (h["timeline"] as? [[String: Any]] ?? []).compactMap { p in
        guard let t = Self.ns(p["t"]) else { return nil }
        return Point(ns: t, mbps: Self.num(p["egress_mbps"]) ?? 0, hashrate: Self.num(p["hashrate_hps"]))
      }
      hosts.append(host)
    }
    for u in obj["units"] as? [[String: Any]] ?? [] {
      units.append(
        Unit(
          name: Self.str(u["unit"]) ?? "?", contact: Self.str(u["contact"]), assetClass: Self.str(u["class"]),
          hosts: Int(Self.num(u["hosts"]) ?? 0), coins: Set(Self.list(u["coins"])),
          pools: Int(Self.num(u["pools"]) ?? 0), mbps: Self.num(u["egress_mbps"]),
          rates: Self.rates(u["hashrate_hps_by_algorithm"]), kWhPerDay: Self.num(u["energy_kwh_per_day"]) ?? 0
        ))
    }
    let t = obj["totals"] as? [String: Any] ?? [:]
    totalMbps = Self.num(t["egress_mbps"])
    totalRates = Self.rates(t["hashrate_hps_by_algorithm"])
    powerKW = Self.num(t["power_kw"]) ?? 0
    kWhPerDay = Self.num(t["energy_kwh_per_day"]) ?? 0
    coalKgPerDay = Self.num(t["coal_kg_per_day"]) ?? 0
    co2KgPerDay = Self.num(t["co2_kg_per_day"]) ?? 0
    totalsNote = "over the whole capture"
    evidence.sort { $0.seq < $1.seq }
  }

  mutating func readDaemonLog(_ alerts: [[String: Any]]) {
    var byHost: [String: Host] = [:]
    var summaries: [[String: Any]] = []
    for a in alerts {
      let t = Self.ns(a["time"]) ?? 0
      if startNs == 0 || (t > 0 && t < startNs) { startNs = t }
      endNs = max(endNs, t)
      let event = Self.str(a["event"]) ?? ""
      if event == "summary" {
        summaries.append(a)
        continue
      }
      if event == "evidence", let file = Self.str(a["file"]), let sha = Self.str(a["sha256"]) {
        evidence.append(
          Evidence(
            seq: Int(Self.num(a["seq"]) ?? 0), host: Self.str(a["host"]) ?? "?", file: file, sha256: sha,
            packets: Int(Self.num(a["packets"]) ?? 0)))
        continue
      }
      guard ["session_start", "session_end", "host_update", "host_table"].contains(event),
        let ip = Self.str(a["host"])
      else { continue }
      var h = byHost[ip] ?? Host(ip: ip)
      if h.firstNs == 0 { h.firstNs = t }
      h.lastNs = max(h.lastNs, t)
      h.unit = Self.str(a["unit"]) ?? h.unit
      h.assetClass = Self.str(a["asset_class"]) ?? h.assetClass
      if let k = Self.str(a["kind"]) {
        h.kind = k
        h.reasons = Self.list(a["kind_reasons"])
      }
      if let c = Self.str(a["coin"]) { h.coins.insert(c) }
      if let p = Self.str(a["pool_name"]) ?? Self.str(a["pool_domain"]) ?? Self.str(a["pool_ip"]) {
        h.pools.insert(p)
      }
      if let w = Self.str(a["login"]) { h.miners.insert(w) }
      if event == "host_update" {
        let rates = Self.rates(a["hashrate_hps_by_algorithm"])
        h.rates = rates
        h.mbps = Self.num(a["egress_mbps"]) ?? h.mbps
        h.powerW = Self.num(a["power_w"]) ?? h.powerW
        h.points.append(
          Point(
            ns: t, mbps: Self.num(a["egress_mbps"]) ?? 0,
            hashrate: rates.count == 1 ? rates.values.first : nil))
      }
      if event == "session_end", let rate = Self.num(a["hashrate_hps"]) {
        if h.rates.isEmpty { h.rates[Self.str(a["algorithm"]) ?? "unknown"] = rate }
        if h.powerW == nil { h.powerW = Self.num(a["power_w"]) }
      }
      byHost[ip] = h
    }
    hosts = byHost.values.sorted { $0.ip < $1.ip }
    // Totals as the mean of the intervals that saw mining: what a gateway carries on a usual day.
    let mining = summaries.filter { (Self.num($0["mining_hosts"]) ?? 0) > 0 }
    let n = Double(max(mining.count, 1))
    if !mining.isEmpty { totalMbps = mining.compactMap { Self.num($0["egress_mbps"]) }.reduce(0, +) / n }
    for s in mining {
      for (k, v) in Self.rates(s["hashrate_hps_by_algorithm"]) { totalRates[k, default: 0] += v / n }
    }
    powerKW = mining.compactMap { Self.num($0["power_kw"]) }.reduce(0, +) / n
    kWhPerDay = mining.compactMap { Self.num($0["energy_kwh_per_day"]) }.reduce(0, +) / n
    coalKgPerDay = mining.compactMap { Self.num($0["coal_kg_per_day"]) }.reduce(0, +) / n
    co2KgPerDay = mining.compactMap { Self.num($0["co2_kg_per_day"]) }.reduce(0, +) / n
    totalsNote = "mean of \(mining.count) summary interval(s) with mining"
    var unitsByName: [String: Unit] = [:]
    for h in hosts {
      let name = h.unit ?? "(no unit)"
      var u = unitsByName[name] ?? Unit(name: name, assetClass: h.assetClass)
      u.hosts += 1
      u.coins.formUnion(h.coins)
      u.pools += h.pools.count
      u.mbps = (u.mbps ?? 0) + (h.mbps ?? 0)
      for (k, v) in h.rates { u.rates[k, default: 0] += v }
      u.kWhPerDay += (h.powerW ?? 0) * 24 / 1000
      unitsByName[name] = u
    }
    if hosts.contains(where: { $0.unit != nil }) { units = unitsByName.values.sorted { $0.name < $1.name } }
    evidence.sort { $0.seq < $1.seq }
  }
}
