import ArgumentParser
import Foundation
import MinewatchKit

/// `minewatch report IN -o OUT.html`: a page people look at, from a scan report or a daemon log.
struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a self-contained HTML report from scan JSON or the daemon's JSON log.",
    discussion: """
      The page has the totals (hosts, Mbps, hashrate, power, kWh/day, coal and CO2), a table by unit, \
      each host with its kind, reasons and timelines of Mbps and hashrate, and the evidence files.
      """)

  @Argument(help: "minewatch scan --format json output, or the daemon's json_log file.")
  var input: String

  @Option(name: [.short, .long], help: "The HTML file to write (- for standard output).")
  var output: String = "-"

  func run() throws {
    let page: ReportPage
    do {
      page = try ReportPage(contentsOf: input)
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
