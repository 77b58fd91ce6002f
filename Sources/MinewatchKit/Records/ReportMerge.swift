import Foundation

/// Many inputs, one picture: `minewatch report` over several sensors' scan reports and daemon
/// logs, of several days. A host is counted once however many sensors saw it (the same address
/// and tenant is the same machine, seen at a campus gateway and again at the backbone), with the
/// largest figure any sensor reported for it: two sensors on one path see the same traffic, so
/// adding them would count it twice.
extension ReportPage {
  /// One sensor's share of the merged page.
  public struct SensorRow: Sendable {
    public var name: String
    public var inputs: [String] = []
    public var startNs: UInt64 = 0
    public var endNs: UInt64 = 0
    public var hosts = 0
    /// Hosts no other sensor saw.
    public var onlyHere = 0
    public var mbps = 0.0
    public var rates: [String: Double] = [:]
    public var kWhPerDay = 0.0
  }

  /// One UTC day of the period: the mining hosts active that day and their hashrate.
  public struct DayRow: Sendable {
    public var day: String
    public var startNs: UInt64
    public var hosts = 0
    public var rates: [String: Double] = [:]
  }

  static let dayNs: UInt64 = 86_400 * 1_000_000_000

  public init(merging pages: [ReportPage]) {
    source = pages.map(\.source).joined(separator: ", ")
    sensor = Set(pages.map(\.sensor)).sorted().joined(separator: ", ")
    var byHost: [String: Host] = [:]
    var rows: [String: SensorRow] = [:]
    for page in pages {
      if page.startNs > 0 && (startNs == 0 || page.startNs < startNs) { startNs = page.startNs }
      endNs = max(endNs, page.endNs)
      var row = rows[page.sensor] ?? SensorRow(name: page.sensor)
      row.inputs.append(page.source)
      if page.startNs > 0 && (row.startNs == 0 || page.startNs < row.startNs) { row.startNs = page.startNs }
      row.endNs = max(row.endNs, page.endNs)
      rows[page.sensor] = row
      for h in page.hosts {
        var m = byHost[h.ip] ?? Host(ip: h.ip)
        m.sensors.insert(page.sensor)
        m.unit = m.unit ?? h.unit
        m.assetClass = m.assetClass ?? h.assetClass
        if m.kind == nil || h.lastNs >= m.lastNs, let k = h.kind {
          m.kind = k
          m.reasons = h.reasons
        }
        m.coins.formUnion(h.coins)
        m.pools.formUnion(h.pools)
        m.miners.formUnion(h.miners)
        m.mbps = Self.larger(m.mbps, h.mbps)
        m.powerW = Self.larger(m.powerW, h.powerW)
        m.rates.merge(h.rates) { max($0, $1) }
        if h.firstNs > 0 && (m.firstNs == 0 || h.firstNs < m.firstNs) { m.firstNs = h.firstNs }
        m.lastNs = max(m.lastNs, h.lastNs)
        m.points = (m.points + h.points).sorted { $0.ns < $1.ns }
        byHost[h.ip] = m
      }
      evidence += page.evidence
    }
    hosts = byHost.values.sorted { $0.ip < $1.ip }
    for h in hosts {
      totalMbps = (totalMbps ?? 0) + (h.mbps ?? 0)
      totalRates.merge(h.rates, uniquingKeysWith: +)
      powerKW += (h.powerW ?? 0) / 1000
      for name in h.sensors {
        rows[name]?.hosts += 1
        if h.sensors.count == 1 { rows[name]?.onlyHere += 1 }
        rows[name]?.mbps += h.mbps ?? 0
        rows[name]?.rates.merge(h.rates, uniquingKeysWith: +)
        rows[name]?.kWhPerDay += (h.powerW ?? 0) * 24 / 1000
      }
    }
    kWhPerDay = powerKW * 24
    // The conversion factors the inputs were written with (every sensor of a province uses the
    // same), else the defaults.
    let factors = pages.first { $0.kWhPerDay > 0 }
    coalKgPerDay =
      kWhPerDay * (factors.map { $0.coalKgPerDay / $0.kWhPerDay } ?? EnergyFactors().coalKgPerKWh)
    co2KgPerDay = kWhPerDay * (factors.map { $0.co2KgPerDay / $0.kWhPerDay } ?? EnergyFactors().co2KgPerKWh)
    sensorRows = rows.values.sorted { $0.name < $1.name }
    totalsNote =
      "across \(sensorRows.count) sensor(s) and \(pages.count) input(s): each host counted once, "
      + "with the largest figure any sensor reported for it"
    days = Self.days(hosts, from: startNs, to: endNs)
    units = Self.units(hosts)
    evidence.sort { ($0.host, $0.seq) < ($1.host, $1.seq) }
  }

  static func larger(_ a: Double?, _ b: Double?) -> Double? {
    switch (a, b) {
    case (nil, let v), (let v, nil): return v
    case (let x?, let y?): return max(x, y)
    }
  }

  /// Day by day (UTC): a host counts on every day its first-to-last sighting touches, with its
  /// hashrate.
  static func days(_ hosts: [Host], from start: UInt64, to end: UInt64) -> [DayRow] {
    guard start > 0, end >= start else { return [] }
    var out: [DayRow] = []
    var day = start / dayNs * dayNs
    // At most a year and a bit of days: a log with a wild timestamp cannot make the page huge.
    while day <= end && out.count < 400 {
      var row = DayRow(day: String(ScanReport.iso8601(day).prefix(10)), startNs: day)
      for h in hosts where h.firstNs < day + dayNs && max(h.lastNs, h.firstNs) >= day {
        row.hosts += 1
        row.rates.merge(h.rates, uniquingKeysWith: +)
      }
      out.append(row)
      day += dayNs
    }
    return out
  }

  /// Units across sensors, from the merged hosts.
  static func units(_ hosts: [Host]) -> [Unit] {
    guard hosts.contains(where: { $0.unit != nil }) else { return [] }
    var byName: [String: Unit] = [:]
    for h in hosts {
      let name = h.unit ?? "(no unit)"
      var u = byName[name] ?? Unit(name: name, assetClass: h.assetClass)
      u.hosts += 1
      u.coins.formUnion(h.coins)
      u.pools += h.pools.count
      u.mbps = (u.mbps ?? 0) + (h.mbps ?? 0)
      for (k, v) in h.rates { u.rates[k, default: 0] += v }
      u.kWhPerDay += (h.powerW ?? 0) * 24 / 1000
      byName[name] = u
    }
    return byName.values.sorted { $0.name < $1.name }
  }
}
