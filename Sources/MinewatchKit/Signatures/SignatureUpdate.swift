import Foundation

/// `minewatch signatures update | rollback`: a new signature set without a rebuild.
///
/// The managed directory is a symbolic link, `DIR → DIR.sets/NAME`. A new set is staged inside
/// `DIR.sets`, checked exactly as the daemon would load it, and only then put in force by
/// renaming a new link over `DIR` — one atomic step, so a daemon reloading at any moment reads
/// either the whole old set or the whole new one. The set in force before stays beside it for
/// `rollback`; older ones are removed, so updates never fill the disk.
public struct SignatureUpdate {
  /// The managed path (the link the daemon's `signatures =` names).
  public let link: URL
  var sets: URL { URL(fileURLWithPath: link.path + ".sets") }

  /// What a set may hold: the loader's files, imported lists, VERSION and a README. Anything
  /// else (a program, a link, a folder) means the source is not a signature set.
  static let maxFiles = 64
  static let maxFileBytes = 64 << 20

  public init(link: URL) { self.link = link.standardizedFileURL }

  public struct Outcome: Sendable {
    public var installed: String
    public var previous: String?
    public var summary: String
  }

  /// Stages `source` (a directory, a .tar/.tar.gz/.tgz/.tar.xz archive, or an http(s) URL),
  /// validates it and puts it in force.
  public func update(from source: String) throws -> Outcome {
    let fm = FileManager.default
    try fm.createDirectory(at: sets, withIntermediateDirectories: true)
    try adoptPlainDirectory()
    let staging = sets.appendingPathComponent(".staging-\(getpid())")
    try? fm.removeItem(at: staging)
    defer { try? fm.removeItem(at: staging) }
    try fm.createDirectory(at: staging, withIntermediateDirectories: false)
    let root = try unpack(source, into: staging)
    try checkContents(root, source: source)
    let summary: String
    do {
      summary = try SignatureTools.check(directory: root).replacingOccurrences(of: root.path, with: source)
    } catch let e as MinewatchError {
      let reason = e.description.replacingOccurrences(of: root.path + "/", with: "")
      throw MinewatchError.signatures("\(source): refused, nothing changed: \(reason)")
    }
    let date = Signatures.setDate(in: root) ?? "undated"
    let name = "\(Self.stamp())-\(date.filter { $0.isLetter || $0.isNumber || $0 == "-" })"
    try fm.moveItem(at: root, to: sets.appendingPathComponent(name))
    let previous = current
    try point(at: name)
    try prune(keeping: [name, previous].compactMap { $0 })
    return Outcome(installed: name, previous: previous, summary: summary)
  }

  /// Puts the set in force before the current one back (it stays, for a second rollback).
  public func rollback() throws -> Outcome {
    guard let now = current else {
      throw MinewatchError.usage("\(link.path): not a managed signature link (run signatures update first)")
    }
    guard let before = try installed().last(where: { $0 != now }) else {
      throw MinewatchError.usage("\(link.path): no earlier signature set to go back to")
    }
    let dir = sets.appendingPathComponent(before)
    let summary = try SignatureTools.check(directory: dir)
    try point(at: before)
    return Outcome(installed: before, previous: now, summary: summary)
  }

  /// The set in force: the link's target inside `DIR.sets`.
  public var current: String? {
    guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path) else {
      return nil
    }
    let name = URL(fileURLWithPath: target).lastPathComponent
    return target == Self.relativeTarget(name, link: link) ? name : nil
  }

  /// The sets kept, oldest first (their names start with the time they were installed).
  public func installed() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: sets.path).filter { !$0.hasPrefix(".") }.sorted()
  }

  // MARK: - Steps

  /// A first update where `DIR` is still an ordinary directory (an installed copy): that set
  /// moves into `DIR.sets` and becomes the one to roll back to. Not atomic, but a daemon that
  /// reloads in the instant between finds no set, says so and keeps the one it has.
  private func adoptPlainDirectory() throws {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    let isLink = (try? fm.destinationOfSymbolicLink(atPath: link.path)) != nil
    guard !isLink, fm.fileExists(atPath: link.path, isDirectory: &isDir) else { return }
    guard isDir.boolValue else { throw MinewatchError.usage("\(link.path): exists and is not a directory") }
    let name = "\(Self.stamp())-adopted"
    try fm.moveItem(at: link, to: sets.appendingPathComponent(name))
    try point(at: name)
  }

  /// A new link beside the old one, renamed over it: rename(2) replaces atomically.
  private func point(at name: String) throws {
    let tmp = link.path + ".new-\(getpid())"
    unlink(tmp)
    guard symlink(Self.relativeTarget(name, link: link), tmp) == 0 else {
      throw MinewatchError.usage("\(tmp): cannot create a link: \(String(cString: strerror(errno)))")
    }
    guard rename(tmp, link.path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(tmp)
      throw MinewatchError.usage("\(link.path): cannot replace: \(reason)")
    }
  }

  private func prune(keeping: [String]) throws {
    for name in try installed() where !keeping.contains(name) {
      try FileManager.default.removeItem(at: sets.appendingPathComponent(name))
    }
  }

  static func relativeTarget(_ name: String, link: URL) -> String {
    link.lastPathComponent + ".sets/" + name
  }

  static func stamp() -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
    return f.string(from: Date())
  }

  /// Copies or extracts the source into `staging`; returns the directory holding the files (an
  /// archive's single top folder, or staging itself).
  private func unpack(_ source: String, into staging: URL) throws -> URL {
    let fm = FileManager.default
    var archive = source
    if source.hasPrefix("http://") || source.hasPrefix("https://") {
      archive = staging.appendingPathComponent(".download").path
      try Self.run(
        "curl",
        [
          "--fail", "--silent", "--show-error", "--location", "--max-redirs", "3", "--proto", "=http,https",
          "--max-time", "120", "--max-filesize", "\(Self.maxFileBytes)", "--output", archive, source,
        ], what: source)
    }
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: archive, isDirectory: &isDir) else {
      throw MinewatchError.usage("\(source): no such file or directory")
    }
    let files = staging.appendingPathComponent("set")
    if isDir.boolValue {
      try fm.createDirectory(at: files, withIntermediateDirectories: false)
      for name in try fm.contentsOfDirectory(atPath: archive) {
        let from = URL(fileURLWithPath: archive).appendingPathComponent(name)
        if (try? fm.destinationOfSymbolicLink(atPath: from.path)) != nil {
          throw MinewatchError.signatures("\(from.path): a link has no place in a signature set")
        }
        try fm.copyItem(at: from, to: files.appendingPathComponent(name))
      }
      return files
    }
    try fm.createDirectory(at: files, withIntermediateDirectories: false)
    // GNU tar: no owners or modes from the archive, never outside the folder (it refuses
    // absolute names and `..`); what it unpacked is checked below all the same.
    try Self.run(
      "tar",
      [
        "--extract", "--no-same-owner", "--no-same-permissions", "--file", archive, "--directory", files.path,
      ],
      what: source)
    let top = try fm.contentsOfDirectory(atPath: files.path)
    if top.count == 1 {
      let only = files.appendingPathComponent(top[0])
      var dir: ObjCBool = false
      let isLink = (try? fm.destinationOfSymbolicLink(atPath: only.path)) != nil
      if !isLink, fm.fileExists(atPath: only.path, isDirectory: &dir), dir.boolValue { return only }
    }
    return files
  }

  /// Only plain text files of the kinds a set has, bounded in number and size.
  private func checkContents(_ dir: URL, source: String) throws {
    let fm = FileManager.default
    let names = try fm.contentsOfDirectory(atPath: dir.path)
    guard names.count <= Self.maxFiles else {
      throw MinewatchError.signatures(
        "\(source): \(names.count) files; a signature set has at most \(Self.maxFiles)")
    }
    for name in names {
      let path = dir.appendingPathComponent(name).path
      guard name == "VERSION" || name == "README.md" || name.hasSuffix(".txt"),
        name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
      else {
        throw MinewatchError.signatures("\(source): '\(name)' is not a signature file (*.txt, VERSION)")
      }
      var st = stat()
      guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
        throw MinewatchError.signatures("\(source): '\(name)' is not a regular file")
      }
      guard st.st_size <= Self.maxFileBytes else {
        throw MinewatchError.signatures("\(source): '\(name)' is larger than 64 MiB")
      }
    }
  }

  /// Runs a tool found on PATH; its error output becomes the one-line error.
  public static func run(_ tool: String, _ args: [String], what: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [tool] + args
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    do {
      try p.run()
    } catch {
      throw MinewatchError.usage("\(what): cannot run \(tool): \(error.localizedDescription)")
    }
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
      let line = text.split(separator: "\n").first.map(String.init) ?? "exit status \(p.terminationStatus)"
      throw MinewatchError.usage("\(what): \(tool) failed: \(line)")
    }
  }
}
