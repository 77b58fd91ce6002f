import Foundation

/// The daemon's verifications, off the capture thread: suspects are queued (each endpoint once
/// while its verdict holds or its probe is pending), one worker thread probes them at most
/// `perMinute` a minute, and the capture thread collects the verdicts on its next tick.
/// Bounded: past `maxPending` waiting endpoints a request is refused and counted.
public final class VerifyQueue: @unchecked Sendable {
  public let store: VerdictStore
  private let verifier: PoolVerifier
  private let maxPending: Int
  /// The rate's window: a minute (shorter in tests).
  let windowSeconds: Double
  private let lock = NSLock()
  private let wake = DispatchSemaphore(value: 0)
  private var pending: [(ip: IPAddress, port: UInt16, tls: Bool, name: String?)] = []
  private var queued: Set<String> = []
  private var done: [PoolVerdict] = []
  private var started: [UInt64] = []
  private var stopping = false
  private var thread: Thread?
  public private(set) var refused: UInt64 = 0
  /// Told when the verdict file cannot be written (the verdict still counts).
  public var onStoreError: (@Sendable (String) -> Void)?

  public init(verifier: PoolVerifier, store: VerdictStore, maxPending: Int = 256, windowSeconds: Double = 60)
  {
    self.verifier = verifier
    self.store = store
    self.maxPending = maxPending
    self.windowSeconds = windowSeconds
  }

  /// Asks for an endpoint's verification; false when it is already known, queued or refused.
  @discardableResult
  public func request(_ ip: IPAddress, port: UInt16, likelyTLS: Bool, serverName: String? = nil) -> Bool {
    if store.verdict(ip, port) != nil { return false }
    let key = PoolVerdict.endpoint(ip, port)
    lock.lock()
    defer { lock.unlock() }
    guard !queued.contains(key) else { return false }
    guard pending.count < maxPending else {
      refused += 1
      return false
    }
    queued.insert(key)
    pending.append((ip, port, likelyTLS, serverName))
    startIfNeeded()
    wake.signal()
    return true
  }

  /// Verdicts reached since the last call.
  public func take() -> [PoolVerdict] {
    lock.lock()
    defer { lock.unlock() }
    let out = done
    done = []
    return out
  }

  /// Blocks until nothing is queued or being verified, or the timeout passes.
  public func waitIdle(timeoutSeconds: Double) {
    let end = ProbeConnection.monotonicNs() + UInt64(timeoutSeconds * 1e9)
    while ProbeConnection.monotonicNs() < end {
      lock.lock()
      let busy = !queued.isEmpty
      lock.unlock()
      if !busy { return }
      usleep(20_000)
    }
  }

  public var pendingCount: Int {
    lock.lock()
    defer { lock.unlock() }
    return pending.count
  }

  public func stop() {
    lock.lock()
    stopping = true
    lock.unlock()
    wake.signal()
  }

  private func startIfNeeded() {
    guard thread == nil else { return }
    let t = Thread { [self] in work() }
    t.name = "minewatch-verify"
    thread = t
    t.start()
  }

  private func work() {
    while true {
      wake.wait()
      while let next = nextDue() {
        let v = verifier.verify(next.ip, port: next.port, likelyTLS: next.tls, serverName: next.name)
        do {
          try store.put(v)
        } catch {
          onStoreError?("\(error)")
        }
        lock.lock()
        queued.remove(v.endpoint)
        done.append(v)
        lock.unlock()
      }
      lock.lock()
      let stop = stopping
      lock.unlock()
      if stop { return }
    }
  }

  /// The next endpoint once the rate allows, sleeping until it does; nil when none waits.
  private func nextDue() -> (ip: IPAddress, port: UInt16, tls: Bool, name: String?)? {
    while true {
      lock.lock()
      if stopping || pending.isEmpty {
        lock.unlock()
        return nil
      }
      let now = ProbeConnection.monotonicNs()
      let window = UInt64(windowSeconds * 1e9)
      started.removeAll { now - $0 >= window }
      if started.count < max(1, verifier.settings.perMinute) {
        started.append(now)
        let next = pending.removeFirst()
        lock.unlock()
        return next
      }
      let wait = window - (now - started[0])
      lock.unlock()
      usleep(UInt32(min(wait / 1000, 1_000_000)))
    }
  }
}
