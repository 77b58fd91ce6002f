import Foundation

/// The report as one self-contained HTML page: inline CSS and SVG, no script, no external
/// resource (a Content-Security-Policy forbids them). Every text from the input is escaped: logins
/// and worker names come from the traffic, which attackers write.
extension ReportPage {
  static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s.unicodeScalars {
      switch ch {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default:
        if ch.value < 0x20 && ch != "\n" && ch != "\t" {
          out += "&#xfffd;"
        } else {
          out.unicodeScalars.append(ch)
        }
      }
    }
    return out
  }

  static func rateText(_ rates: [String: Double]) -> String {
    rates.isEmpty
      ? "–"
      : rates.sorted { $0.key < $1.key }.map {
        "\(Units.rate($0.value, unit: $0.key == "equihash" ? "Sol/s" : "H/s")) \($0.key)"
      }.joined(separator: ", ")
  }

  static func date(_ ns: UInt64) -> String { ns == 0 ? "–" : String(ScanReport.iso8601(ns).prefix(19)) + "Z" }

  /// A line chart of one series over the page's period, with its peak labelled.
  func chart(_ points: [(UInt64, Double)], label: String, format: (Double) -> String) -> String {
    let width = 360.0
    let height = 70.0
    guard points.count >= 1, endNs > startNs else {
      return "<svg class=\"chart\" width=\"360\" height=\"70\" role=\"img\" aria-label=\"\(label): no data\">"
        + "<text x=\"4\" y=\"38\">no data</text></svg>"
    }
    let peak = points.map(\.1).max() ?? 0
    let span = Double(endNs - startNs)
    let coords = points.map { (t, v) -> String in
      let x = Double(min(max(t, startNs), endNs) - startNs) / span * (width - 8) + 4
      let y = height - 14 - (peak > 0 ? v / peak : 0) * (height - 26)
      return String(format: "%.1f,%.1f", x, y)
    }
    return """
      <svg class="chart" width="360" height="70" viewBox="0 0 360 70" role="img" aria-label="\(Self.escape(label))">\
      <line x1="4" y1="56" x2="356" y2="56" class="axis"/>\
      <polyline class="series" points="\(coords.joined(separator: " "))"/>\
      <text x="4" y="10">\(Self.escape(label)) · peak \(Self.escape(format(peak)))</text>\
      <text x="4" y="68">\(Self.escape(Self.date(startNs)))</text>\
      <text x="356" y="68" text-anchor="end">\(Self.escape(Self.date(endNs)))</text></svg>
      """
  }

  public func html() -> String {
    var o: [String] = []
    let e = Self.escape
    o.append(
      """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8">
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
      <title>minewatch report</title>
      <style>
      body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
      h1{font-size:22px}h2{font-size:18px;margin-top:28px}
      table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
      th{background:#f0f0f0}.num{text-align:right}.totals td{font-size:16px}
      .kind-hijacked{color:#a00;font-weight:bold}.kind-active{color:#333}.kind-research{color:#05a}.kind-proxy{color:#850}
      .chart{background:#fafafa;border:1px solid #ddd;margin:2px}.chart text{font-size:10px;fill:#555}
      .series{fill:none;stroke:#c33;stroke-width:1.5}.axis{stroke:#bbb}.reasons{font-size:12px;color:#555}
      code{font-size:12px;word-break:break-all}td.miners{max-width:260px;word-break:break-all}
      td.who{min-width:170px}td.kind{max-width:260px}
      </style></head><body>
      <h1>minewatch report</h1>
      <p>Source: <code>\(e(source))</code> · \(e(Self.date(startNs))) → \(e(Self.date(endNs)))</p>
      """)
    // Totals, as the provinces published theirs: hosts, Mbps to pools, hashrate, energy.
    let ph = totalRates["sha256d"].map { String(format: "%.3g PH/s", $0 / 1e15) }
    o.append("<h2>Totals</h2><table class=\"totals\" id=\"totals\">")
    o.append("<tr><th>Mining hosts</th><td class=\"num\" id=\"total-hosts\">\(hosts.count)</td></tr>")
    o.append(
      "<tr><th>Traffic to pools</th><td class=\"num\">\(e(totalMbps.map(Units.mbps) ?? "–"))</td></tr>")
    o.append(
      "<tr><th>Hashrate</th><td class=\"num\">\(e(Self.rateText(totalRates)))"
        + "\(ph.map { " (SHA-256d: \(e($0)))" } ?? "")</td></tr>")
    o.append(
      "<tr><th>Power</th><td class=\"num\">\(e(Units.rate(powerKW * 1000, unit: "W")))</td></tr>"
        + "<tr><th>Energy</th><td class=\"num\" id=\"total-kwh\">"
        + "\(e(String(format: "%.4g kWh/day, %.4g kWh/year", kWhPerDay, kWhPerDay * 365)))</td></tr>"
        + "<tr><th>Standard coal / CO₂</th><td class=\"num\">"
        + "\(e(String(format: "%.4g kg / %.4g kg a day (%.4g t CO₂ a year)", coalKgPerDay, co2KgPerDay, co2KgPerDay * 365 / 1000)))"
        + "</td></tr>")
    o.append("</table><p class=\"reasons\">Totals \(e(totalsNote)).</p>")

    if !sensorRows.isEmpty {
      o.append(
        "<h2>By sensor</h2><table id=\"sensors\"><tr><th>Sensor</th><th>Inputs</th><th>Period</th>"
          + "<th>Mining hosts</th><th>Seen only here</th><th>Mbps</th><th>Hashrate</th><th>kWh/day</th></tr>")
      for r in sensorRows {
        o.append(
          "<tr class=\"sensor\"><td>\(e(r.name))</td><td><code>\(r.inputs.map(e).joined(separator: "<br>"))</code></td>"
            + "<td>\(e(Self.date(r.startNs))) → \(e(Self.date(r.endNs)))</td>"
            + "<td class=\"num\">\(r.hosts)</td><td class=\"num\">\(r.onlyHere)</td>"
            + "<td class=\"num\">\(e(Units.mbps(r.mbps)))</td><td class=\"num\">\(e(Self.rateText(r.rates)))</td>"
            + "<td class=\"num\">\(e(String(format: "%.4g", r.kWhPerDay)))</td></tr>")
      }
      o.append(
        "</table><p class=\"reasons\">A host several sensors saw counts in each of their rows and once in "
          + "the totals.</p>")
    }

    if !days.isEmpty {
      o.append("<h2>Day by day</h2>")
      o.append(
        chart(
          days.map { ($0.startNs, Double($0.hosts)) }, label: "mining hosts a day", format: { "\(Int($0))" })
          + chart(
            days.map { ($0.startNs, $0.rates.values.reduce(0, +)) }, label: "hashrate a day (all algorithms)",
            format: { Units.rate($0) }))
      o.append("<table id=\"days\"><tr><th>Day (UTC)</th><th>Mining hosts</th><th>Hashrate</th></tr>")
      for d in days {
        o.append(
          "<tr class=\"day\"><td>\(e(d.day))</td><td class=\"num\">\(d.hosts)</td>"
            + "<td class=\"num\">\(e(Self.rateText(d.rates)))</td></tr>")
      }
      o.append("</table>")
    }

    if !units.isEmpty {
      o.append(
        "<h2>By unit</h2><table id=\"units\"><tr><th>Unit</th><th>Class</th><th>Contact</th><th>Hosts</th>"
          + "<th>Coins</th><th>Pools</th><th>Mbps</th><th>Hashrate</th><th>kWh/day</th></tr>")
      for u in units {
        o.append(
          "<tr class=\"unit\"><td>\(e(u.name))</td><td>\(e(u.assetClass ?? "–"))</td><td>\(e(u.contact ?? "–"))</td>"
            + "<td class=\"num\">\(u.hosts)</td><td>\(e(u.coins.sorted().joined(separator: ", ")))</td>"
            + "<td class=\"num\">\(u.pools)</td><td class=\"num\">\(e(u.mbps.map(Units.mbps) ?? "–"))</td>"
            + "<td class=\"num\">\(e(Self.rateText(u.rates)))</td>"
            + "<td class=\"num\">\(e(String(format: "%.4g", u.kWhPerDay)))</td></tr>")
      }
      o.append("</table>")
    }

    o.append(
      "<h2>Hosts</h2><table id=\"hosts\"><tr><th>Host</th><th>Kind</th>"
        + "<th>Mbps and hashrate over time</th><th>Coins and pools</th><th>Miners</th></tr>")
    for h in hosts {
      let kind = h.kind ?? "–"
      o.append(
        "<tr class=\"host\" id=\"host-\(e(h.ip))\"><td class=\"who\"><b>\(e(h.ip))</b><br>\(e(h.unit ?? ""))"
          + "\(h.assetClass.map { " (\(e($0)))" } ?? "")<br>\(e(Self.date(h.firstNs)))<br>→ \(e(Self.date(h.lastNs)))"
          + (sensorRows.isEmpty
            ? ""
            : "<br><span class=\"reasons\">seen by \(e(h.sensors.sorted().joined(separator: ", ")))</span>")
          + "</td>"
          + "<td class=\"kind\"><span class=\"kind-\(e(kind))\">\(e(kind))</span><div class=\"reasons\">"
          + h.reasons.map(e).joined(separator: "<br>") + "</div></td><td>"
          + chart(h.points.map { ($0.ns, $0.mbps) }, label: "Mbps", format: Units.mbps) + "<br>"
          + chart(
            h.points.compactMap { p in p.hashrate.map { (p.ns, $0) } }, label: "hashrate",
            format: { Units.rate($0) })
          + "<br><span class=\"reasons\">\(e(h.mbps.map(Units.mbps) ?? "–")), \(e(Self.rateText(h.rates)))"
          + "\(h.powerW.map { ", " + Units.rate($0, unit: "W") } ?? "")</span></td>"
          + "<td>\(e(h.coins.sorted().joined(separator: ", ")))<br><span class=\"reasons\">"
          + "\(e(h.pools.sorted().joined(separator: ", ")))</span></td>"
          + "<td class=\"miners\"><span class=\"reasons\">\(h.miners.sorted().map(e).joined(separator: "<br>"))</span></td></tr>"
      )
    }
    o.append("</table>")

    o.append("<h2>Evidence</h2>")
    if evidence.isEmpty {
      o.append("<p>No evidence files were written (scan --evidence DIR, or evidence_dir in the config).</p>")
    } else {
      o.append(
        "<table id=\"evidence\"><tr><th>#</th><th>Host</th><th>File</th><th>Packets</th><th>SHA-256</th></tr>"
      )
      for v in evidence {
        o.append(
          "<tr class=\"evidence\"><td class=\"num\">\(v.seq)</td><td>\(e(v.host))</td><td><code>\(e(v.file))</code></td>"
            + "<td class=\"num\">\(v.packets)</td><td><code>\(e(v.sha256))</code></td></tr>")
      }
      o.append("</table><p class=\"reasons\">Check with <code>minewatch evidence verify DIR</code>.</p>")
    }
    o.append("</body></html>\n")
    return o.joined(separator: "\n")
  }
}
