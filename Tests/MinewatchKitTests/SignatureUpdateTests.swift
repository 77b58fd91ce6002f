import Foundation
import Testing

@testable import MinewatchKit

/// `signatures update` and `rollback`: a set is checked before it is in force, goes in with
/// one rename, the one before stays for rollback, and hostile sources change nothing.
@Suite struct SignatureUpdateTests {
  /// A fresh folder with a copy of the shipped set whose VERSION says `date`, plus one pool.
  func source(_ date: String, extraPool: String? = nil) throws -> URL {
    let dir = URL(fileURLWithPath: Paths.scratch(UUID().uuidString + "-set"))
    try FileManager.default.copyItem(atPath: Paths.signatures.path, toPath: dir.path)
    try (date + "\n").write(to: dir.appendingPathComponent("VERSION"), atomically: true, encoding: .utf8)
    if let extraPool {
      let pools = dir.appendingPathComponent("pools.txt")
      let text = try String(contentsOf: pools, encoding: .utf8)
      try (text + "\n\(extraPool) pool XMR UpdateTest\n").write(to: pools, atomically: true, encoding: .utf8)
    }
    return dir
  }

  func managed() -> SignatureUpdate {
    SignatureUpdate(link: URL(fileURLWithPath: Paths.scratch(UUID().uuidString + "-managed")))
  }

  func date(_ u: SignatureUpdate) -> String? { Signatures.setDate(in: u.link) }

  func names(_ u: SignatureUpdate) throws -> Int { try Signatures(directory: u.link).nameTable().count }

  @Test func updatesSwapAtomicallyKeepOneForRollbackAndPrune() throws {
    let u = managed()
    let first = try u.update(from: try source("2026-11-01").path)
    #expect(first.previous == nil && date(u) == "2026-11-01")
    #expect(
      try FileManager.default.destinationOfSymbolicLink(atPath: u.link.path).hasPrefix(
        u.link.lastPathComponent + ".sets/"))
    let base = try names(u)
    let second = try u.update(from: try source("2026-11-15", extraPool: "pool.update-test.example").path)
    #expect(second.previous == first.installed && date(u) == "2026-11-15")
    #expect(try names(u) == base + 1)
    #expect(second.summary.contains(": valid") && !second.summary.contains(".staging"))
    _ = try u.update(from: try source("2026-12-01").path)
    // Only the set in force and the one before it stay on disk.
    #expect(try u.installed().count == 2 && date(u) == "2026-12-01")
    let back = try u.rollback()
    #expect(date(u) == "2026-11-15" && back.previous?.hasSuffix("2026-12-01") == true)
    _ = try u.rollback()
    #expect(date(u) == "2026-12-01")
  }

  @Test func archivesWithOrWithoutATopFolderAreTaken() throws {
    let u = managed()
    let src = try source("2026-10-10")
    let parent = src.deletingLastPathComponent().path
    let withFolder = Paths.scratch(UUID().uuidString + "-set.tar.gz")
    try SignatureUpdate.run(
      "tar", ["-czf", withFolder, "-C", parent, src.lastPathComponent], what: "the test archive")
    _ = try u.update(from: withFolder)
    #expect(date(u) == "2026-10-10")
    try "2026-10-11\n".write(to: src.appendingPathComponent("VERSION"), atomically: true, encoding: .utf8)
    let flat = Paths.scratch(UUID().uuidString + "-flat.tar.xz")
    try SignatureUpdate.run("tar", ["-cJf", flat, "-C", src.path, "."], what: "the test archive")
    _ = try u.update(from: flat)
    #expect(date(u) == "2026-10-11")
  }

  /// A broken set, a stray program, a link out of the set, a folder of anything: refused with
  /// one line, and the set in force is untouched.
  @Test func badSourcesChangeNothing() throws {
    let u = managed()
    _ = try u.update(from: try source("2026-09-09").path)
    let before = u.current

    let broken = try source("2026-09-10")
    let pools = broken.appendingPathComponent("pools.txt")
    try (try String(contentsOf: pools, encoding: .utf8) + "\nnot..a..domain pool XMR Broken\n").write(
      to: pools, atomically: true, encoding: .utf8)
    let stray = try source("2026-09-11")
    try "#!/bin/sh\n".write(to: stray.appendingPathComponent("install.sh"), atomically: true, encoding: .utf8)
    let linked = try source("2026-09-12")
    try FileManager.default.createSymbolicLink(
      atPath: linked.appendingPathComponent("extra.pools.txt").path, withDestinationPath: "/etc/passwd")
    let inArchive = try source("2026-09-13")
    try FileManager.default.createSymbolicLink(
      atPath: inArchive.appendingPathComponent("agents2.txt").path, withDestinationPath: "/etc/shadow")
    let archive = Paths.scratch(UUID().uuidString + "-linked.tar")
    try SignatureUpdate.run("tar", ["-cf", archive, "-C", inArchive.path, "."], what: "the test archive")
    let notText = Paths.scratch(UUID().uuidString + "-not-an-archive.tar.gz")
    try Data("this is no archive".utf8).write(to: URL(fileURLWithPath: notText))

    for (src, message) in [
      (broken.path, "refused, nothing changed: pools.txt:"),
      (stray.path, "'install.sh' is not a signature file"),
      (linked.path, "a link has no place in a signature set"),
      (archive, "'agents2.txt' is not a regular file"),
      (notText, "tar failed:"),
      (Paths.scratch("no-such-set"), "no such file or directory"),
    ] {
      do {
        _ = try u.update(from: src)
        Issue.record("accepted \(src)")
      } catch {
        #expect("\(error)".contains(message), "\(error)")
        #expect(!"\(error)".contains("\n"))
      }
      #expect(u.current == before && date(u) == "2026-09-09")
    }
    // No staging folder is left behind.
    #expect(try u.installed().count == 1)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: u.link.path + ".sets").allSatisfy {
        !$0.hasPrefix(".staging")
      })
  }

  /// An installed copy (an ordinary folder) is adopted as the first set and can be rolled back to.
  @Test func aPlainDirectoryIsAdopted() throws {
    let u = managed()
    try FileManager.default.copyItem(at: try source("2026-08-08"), to: u.link)
    _ = try u.update(from: try source("2026-08-20").path)
    #expect(date(u) == "2026-08-20")
    let back = try u.rollback()
    #expect(back.installed.hasSuffix("-adopted") && date(u) == "2026-08-08")
    #expect(throws: MinewatchError.self) { try managed().rollback() }
  }

  /// Fetched over HTTP from a server on loopback (python's http.server), as from a site's mirror.
  @Test func aURLIsFetched() throws {
    let src = try source("2026-07-07")
    let served = URL(fileURLWithPath: Paths.scratch(UUID().uuidString + "-www"))
    try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
    try SignatureUpdate.run(
      "tar", ["-czf", served.path + "/set.tgz", "-C", src.path, "."], what: "the test archive")
    let server = Process()
    server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    server.arguments = [
      "python3", "-m", "http.server", "--bind", "127.0.0.1", "0", "--directory", served.path,
    ]
    let out = Pipe()
    server.standardOutput = out
    server.standardError = FileHandle.nullDevice
    server.environment = ["PYTHONUNBUFFERED": "1", "PATH": "/usr/bin:/bin"]
    try server.run()
    defer {
      kill(server.processIdentifier, SIGKILL)
      server.waitUntilExit()
    }
    // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
    var line = ""
    while !line.contains("\n") {
      let d = out.fileHandleForReading.availableData
      if d.isEmpty { break }
      line += String(decoding: d, as: UTF8.self)
    }
    let port = try #require(
      line.split(separator: " ").firstIndex(of: "port").map { line.split(separator: " ")[$0 + 1] })
    let u = managed()
    _ = try u.update(from: "http://127.0.0.1:\(port)/set.tgz")
    #expect(date(u) == "2026-07-07")
    #expect(throws: MinewatchError.self) { try u.update(from: "http://127.0.0.1:\(port)/missing.tgz") }
    #expect(date(u) == "2026-07-07")
  }
}
