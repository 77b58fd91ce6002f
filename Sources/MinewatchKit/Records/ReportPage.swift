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
    /// The sensors that saw it (a page merged from several sensors' inputs).
    public var sensors: Set<String> = []
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
  /// The sensor the input came from: its log's `sensor`, else the file's name.
  public var sensor: String
  /// Several inputs merged (`minewatch report A B C`): by sensor, and day by day.
  public var sensorRows: [SensorRow] = []
  public var days: [DayRow] = []

  /// Reads a scan report (one JSON object) or a daemon log (one alert object per line), as the
  /// typed records that wrote them.
  /// An input gzip-compressed (logrotate's older logs) is inflated to at most this much.
  public static let maxInflatedBytes = 1 << 30

  public init(contentsOf path: String) throws {
    var data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw MinewatchError.unreadable("\(path): cannot read: \(error.localizedDescription)")
    }
    if Gunzip.isGzip(data) {
      do {
        data = try Gunzip.inflate(data, limit: Self.maxInflatedBytes)
      } catch .tooLarge(let limit) {
        throw MinewatchError.unreadable("\(path): more than \(limit >> 20) MiB once inflated; refused")
      } catch .corrupt(let reason) {
        throw MinewatchError.unreadable("\(path): damaged gzip data: \(reason)")
      }
    }
    source = path
    sensor = URL(fileURLWithPath: path).lastPathComponent
    if let doc = try? JSONDecoder().decode(ScanDocument.self, from: data) {
      sensor = doc.sensor ?? sensor
      readScan(doc)
      return
    }
    var alerts: [AlertLine] = []
    var named: String?
    defer { sensor = named ?? sensor }
    for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
      if named == nil { named = AlertLine.sensor(of: Data(line)) }
      guard let alert = AlertLine.decode(Data(line)) else {
        throw MinewatchError.unreadable(
          "\(path):\(i + 1): neither a scan report (minewatch scan --format json) nor a daemon JSON log line")
      }
      alerts.append(alert)
    }
    guard !alerts.isEmpty else { throw MinewatchError.unreadable("\(path): empty") }
    readDaemonLog(alerts)
  }
}

extension ReportPage {
  /// Parses the report's own time format (UTC, milliseconds).
  static func ns(_ s: String?) -> UInt64? {
    guard let s, s.utf8.count >= 19 else { return nil }
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

  /// Numbers from a file someone may have edited: only finite ones count.
  static func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
  static func finite(_ rates: [String: Double]) -> [String: Double] { rates.filter { $0.value.isFinite } }

  /// What a session adds to its host: coin, pool, time span, evidence file.
  mutating func add(_ s: SessionRecord, to host: inout Host) {
    if let c = s.coin { host.coins.insert(c) }
    host.pools.insert(s.poolName ?? s.poolDomain ?? s.poolIP)
    let first = Self.ns(s.firstSeen) ?? 0
    let last = Self.ns(s.lastSeen) ?? 0
    if host.firstNs == 0 || (first > 0 && first < host.firstNs) { host.firstNs = first }
    host.lastNs = max(host.lastNs, last)
  }

  /// A host as the page names it: its address, and its tenant's tunnels when it has one (the
  /// same address in two tenants is two hosts).
  static func hostLabel(_ ip: String, tenant: String?) -> String {
    tenant.map { "\(ip) (\($0))" } ?? ip
  }

  mutating func readScan(_ doc: ScanDocument) {
    startNs = Self.ns(doc.capture.start) ?? 0
    endNs = Self.ns(doc.capture.end) ?? 0
    for h in doc.hosts where ["miner", "proxy", "browser-miner"].contains(h.figures.role) {
      var host = Host(ip: Self.hostLabel(h.figures.ip, tenant: h.unit?.tenant))
      host.unit = h.unit?.unit
      host.assetClass = h.unit?.assetClass
      host.kind = h.figures.kind
      host.reasons = h.figures.kindReasons
      host.mbps = Self.finite(h.figures.egressMbps)
      host.rates = Self.finite(h.figures.hashrateHpsByAlgorithm)
      host.miners = Set(h.figures.minerIdentities)
      host.powerW = Self.finite(h.figures.powerW)
      for s in h.sessions {
        add(s, to: &host)
        if let e = s.evidencePcap {
          evidence.append(
            Evidence(seq: e.seq, host: host.ip, file: e.file, sha256: e.sha256, packets: e.packets))
        }
      }
      host.points = h.timeline.compactMap { p in
        Self.ns(p.t).map {
          Point(ns: $0, mbps: Self.finite(p.egressMbps) ?? 0, hashrate: Self.finite(p.hashrateHps))
        }
      }
      hosts.append(host)
    }
    for u in doc.units ?? [] {
      units.append(
        Unit(
          name: u.unit, contact: u.contact, assetClass: u.class, hosts: u.hosts, coins: Set(u.coins),
          pools: u.pools,
          mbps: Self.finite(u.egressMbps), rates: Self.finite(u.hashrateHpsByAlgorithm),
          kWhPerDay: Self.finite(u.energyKwhPerDay) ?? 0))
    }
    let t = doc.totals
    totalMbps = Self.finite(t.egressMbps)
    totalRates = Self.finite(t.hashrateHpsByAlgorithm)
    powerKW = Self.finite(t.powerKw) ?? 0
    kWhPerDay = Self.finite(t.energyKwhPerDay) ?? 0
    coalKgPerDay = Self.finite(t.coalKgPerDay) ?? 0
    co2KgPerDay = Self.finite(t.co2KgPerDay) ?? 0
    totalsNote = "over the whole capture"
    evidence.sort { $0.seq < $1.seq }
  }

  mutating func readDaemonLog(_ alerts: [AlertLine]) {
    var byHost: [String: Host] = [:]
    var summaries: [SummaryAlert] = []
    func touch(_ address: String, _ t: UInt64, _ unit: UnitFields?, _ change: (inout Host) -> Void) {
      let ip = Self.hostLabel(address, tenant: unit?.tenant)
      var h = byHost[ip] ?? Host(ip: ip)
      if h.firstNs == 0 { h.firstNs = t }
      h.lastNs = max(h.lastNs, t)
      h.unit = unit?.unit ?? h.unit
      h.assetClass = unit?.assetClass ?? h.assetClass
      change(&h)
      byHost[ip] = h
    }
    for alert in alerts {
      let time: String
      switch alert {
      case .sessionStart(let t, _), .sessionEnd(let t, _), .hostUpdate(let t, _), .hostTable(let t, _),
        .summary(let t, _), .evidence(let t, _), .captureDrops(let t, _):
        time = t
      }
      let t = Self.ns(time) ?? 0
      if startNs == 0 || (t > 0 && t < startNs) { startNs = t }
      endNs = max(endNs, t)
      switch alert {
      case .summary(_, let s):
        summaries.append(s)
      case .evidence(_, let e):
        evidence.append(
          Evidence(seq: e.seq, host: e.host, file: e.file, sha256: e.sha256, packets: e.packets))
      case .sessionStart(_, let a), .sessionEnd(_, let a):
        touch(a.host, t, a.unit) { h in
          if let k = a.kind {
            h.kind = k
            h.reasons = a.kindReasons
          }
          add(a.session, to: &h)
          if let w = a.session.login { h.miners.insert(w) }
        }
      case .hostUpdate(_, let u):
        touch(u.host, t, u.unit) { h in
          let rates = Self.finite(u.hashrateHpsByAlgorithm)
          h.rates = rates
          h.mbps = Self.finite(u.egressMbps) ?? h.mbps
          h.powerW = Self.finite(u.powerW) ?? h.powerW
          h.points.append(
            Point(
              ns: t, mbps: Self.finite(u.egressMbps) ?? 0,
              hashrate: rates.count == 1 ? rates.values.first : nil))
        }
      case .hostTable(_, let ht):
        guard ["miner", "proxy", "browser-miner"].contains(ht.figures.role) else { continue }
        // The host table's own figures: at shutdown (final) they are the host's whole story.
        touch(ht.host, t, ht.unit) { h in
          h.kind = ht.figures.kind ?? h.kind
          h.reasons = ht.figures.kind != nil ? ht.figures.kindReasons : h.reasons
          if !ht.figures.hashrateHpsByAlgorithm.isEmpty {
            h.rates = Self.finite(ht.figures.hashrateHpsByAlgorithm)
          }
          h.powerW = Self.finite(ht.figures.powerW) ?? h.powerW
          h.miners.formUnion(ht.logins)
        }
      case .captureDrops:
        break
      }
    }
    hosts = byHost.values.sorted { $0.ip < $1.ip }
    // Totals as the mean of the intervals that saw mining: what a gateway carries on a usual day.
    let mining = summaries.filter { $0.miningHosts > 0 }
    let n = Double(max(mining.count, 1))
    if !mining.isEmpty { totalMbps = mining.compactMap { Self.finite($0.egressMbps) }.reduce(0, +) / n }
    for s in mining {
      for (k, v) in Self.finite(s.hashrateHpsByAlgorithm) { totalRates[k, default: 0] += v / n }
    }
    powerKW = mining.compactMap { Self.finite($0.powerKw) }.reduce(0, +) / n
    kWhPerDay = mining.compactMap { Self.finite($0.energyKwhPerDay) }.reduce(0, +) / n
    coalKgPerDay = mining.compactMap { Self.finite($0.coalKgPerDay) }.reduce(0, +) / n
    co2KgPerDay = mining.compactMap { Self.finite($0.co2KgPerDay) }.reduce(0, +) / n
    totalsNote = "mean of \(mining.count) summary interval(s) with mining"
    units = Self.units(hosts)
    evidence.sort { $0.seq < $1.seq }
  }
}
