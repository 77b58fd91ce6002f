import Foundation

/// Verdicts by endpoint, each until it expires, written to one JSON file so that a restart
/// (or a later `scan --verdicts`) knows what was verified. Bounded: past `capacity` the verdict
/// that expires soonest goes.
public final class VerdictStore: @unchecked Sendable {
  public let path: String?
  public let capacity: Int
  private let lock = NSLock()
  private var verdicts: [String: PoolVerdict] = [:]

  /// Loads `path` when it exists, dropping what has expired; an unreadable file is an error
  /// naming it (a daemon must not silently forget what it confirmed).
  public init(path: String?, capacity: Int = 65_536, now: Date = Date()) throws {
    self.path = path
    self.capacity = capacity
    guard let path, FileManager.default.fileExists(atPath: path) else { return }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw MinewatchError.unreadable("\(path): cannot read the verdict file")
    }
    let list: [PoolVerdict]
    do {
      list = try Self.decoder.decode([PoolVerdict].self, from: data)
    } catch {
      throw MinewatchError.unreadable("\(path): not a verdict file (\(error))")
    }
    for v in list.suffix(capacity) where v.expiresAt > now { verdicts[v.endpoint] = v }
  }

  static let decoder = JSONDecoder()

  public static let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return e
  }()

  /// The verdict in force for an endpoint, if one has not expired.
  public func verdict(_ ip: IPAddress, _ port: UInt16, now: Date = Date()) -> PoolVerdict? {
    lock.lock()
    defer { lock.unlock() }
    guard let v = verdicts[PoolVerdict.endpoint(ip, port)], v.expiresAt > now else { return nil }
    return v
  }

  /// Every verdict in force, pools first.
  public func all(now: Date = Date()) -> [PoolVerdict] {
    lock.lock()
    defer { lock.unlock() }
    return verdicts.values.filter { $0.expiresAt > now }.sorted {
      ($0.status == .pool ? 0 : 1, $0.endpoint) < ($1.status == .pool ? 0 : 1, $1.endpoint)
    }
  }

  /// Keeps a verdict and writes the file (atomically: a crash leaves the old or the new one).
  public func put(_ v: PoolVerdict) throws {
    lock.lock()
    verdicts[v.endpoint] = v
    if verdicts.count > capacity, let soonest = verdicts.min(by: { $0.value.expiresAt < $1.value.expiresAt })
    {
      verdicts.removeValue(forKey: soonest.key)
    }
    let list = verdicts.values.sorted { $0.endpoint < $1.endpoint }
    lock.unlock()
    guard let path else { return }
    let data = try Self.encoder.encode(list)
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}
