import ArgumentParser
import Foundation
import MinewatchKit

/// `minewatch report IN -o OUT.html`: a page people look at, from a scan report or a daemon log.
struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write a self-contained HTML report from scan JSON or daemon JSON logs, one or many.",
    discussion: """
      The page has the totals (hosts, Mbps, hashrate, power, kWh/day, coal and CO2), a table by unit, \
      each host with its kind, reasons and timelines of Mbps and hashrate, and the evidence files. \
      Given several inputs (sensors' logs and scan reports, of several days) it writes one page: \
      each host counted once however many sensors saw it, a table by sensor and the day-by-day \
      trend of mining hosts and hashrate. A log's sensor is its alerts' `sensor`; a scan report's \
      is its file name.
      """)

  @Argument(help: "minewatch scan --format json outputs and daemon json_log files.")
  var inputs: [String]

  @Option(name: [.short, .long], help: "The HTML file to write (- for standard output).")
  var output: String = "-"

  func run() throws {
    let page: ReportPage
    do {
      let pages = try inputs.map { try ReportPage(contentsOf: $0) }
      page = pages.count == 1 ? pages[0] : ReportPage(merging: pages)
    } catch let e as MinewatchError {
      fail(e.description)
    }
    let html = Data(page.html().utf8)
    if output == "-" {
      FileHandle.standardOutput.write(html)
    } else if !FileManager.default.createFile(atPath: output, contents: html) {
      fail("\(output): cannot write")
    }
  }
}
