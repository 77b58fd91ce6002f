import Foundation
import MinewatchCore

/// A scan on three threads or more (and on two for files libpcap reads): one reader and
/// `engines` engines that share the flows out (shards.c), each engine with a pipeline of its own on a thread of its own, joined into one
/// report at the end (Pipeline.finish). Every engine stops at each sample point of the
/// timelines; there they meet, and the notes that compare flows are published while all wait
/// (PushNotes), so the report is the one a one-engine scan gives.
///
/// Unchecked Sendable: each pipeline is used by its engine's thread alone between meetings, the
/// meeting's work runs while every engine thread waits, and the joining runs after all ended.
final class ShardedScan: @unchecked Sendable {
  private let pipelines: [Pipeline]
  private let meeting: Meeting
  /// The file being read (set before the engine threads start, cleared after they end).
  private var reading: OpaquePointer?

  init(primary: Pipeline, engines: Int) throws {
    var all = [primary]
    for k in 1..<engines { all.append(try primary.shard(index: k)) }
    pipelines = all
    meeting = Meeting(parties: engines) { [all] in all[0].tracker.pushNotes.publish(all.map(\.tracker)) }
  }

  func run(_ captures: CaptureFiles, progress: ((ScanProgress) -> Void)?) throws -> ScanReport {
    let primary = pipelines[0]
    primary.publishesNotes = false
    defer { primary.publishesNotes = true }
    var warnings: [String] = []
    var packetsBefore: UInt64 = 0
    var nextSample: UInt64 = 1  // the first packet is a sample point (Scanner.scan's deadline)
    let start = Date()
    for (path, capture) in captures.files {
      let linktype = mw_capture_linktype(capture)
      for p in pipelines { _ = mw_engine_set_linktype(p.engine.raw, linktype) }
      var err = [CChar](repeating: 0, count: 512)
      let raws: [OpaquePointer?] = pipelines.map { $0.engine.raw }
      guard
        let shards = mw_shards_start(
          capture, raws, Int32(pipelines.count), packetsBefore, nextSample, Pipeline.sampleStepNs, &err,
          err.count)
      else { throw MinewatchError.unreadable("\(path): \(cText(err))") }
      reading = shards
      defer {
        reading = nil
        mw_shards_stop(shards)
      }
      let size = regularFileSize(path)
      let ends = EngineEnds(count: pipelines.count)
      let done = DispatchGroup()
      for k in 1..<pipelines.count {
        done.enter()
        Thread { [self] in  // named mw-engine-k by the C side
          ends.set(k, self.drive(k, onSample: nil))
          done.leave()
        }.start()
      }
      ends.set(
        0,
        drive(0) {
          progress?(
            ScanProgress(
              file: path, offset: mw_shards_offset(shards), size: size, packets: mw_shards_packets(shards),
              elapsed: Date().timeIntervalSince(start)))
        })
      done.wait()
      if let message = ends.failure {
        warnings.append("\(path): \(message); reporting what was read before it")
      }
      packetsBefore = mw_shards_packets(shards)
      nextSample = mw_shards_next_tick(shards)
    }
    return primary.finish(
      files: captures.files.map(\.path), warnings: warnings, shards: Array(pipelines.dropFirst()))
  }

  /// Engine k's thread: its records until the file ends, meeting the others at each sample
  /// point. Returns the reader's message when the file was malformed.
  private func drive(_ k: Int, onSample: (() -> Void)?) -> String? {
    guard let shards = reading else { return nil }
    var err = [CChar](repeating: 0, count: 512)
    while true {
      let rc = mw_shards_run(shards, Int32(k), &err, err.count)
      guard rc == 1 else { return rc < 0 ? cText(err) : nil }
      pipelines[k].sampleTimelines()
      onSample?()
      meeting.arrive()
    }
  }
}

/// Each engine thread's end of a file.
private final class EngineEnds: @unchecked Sendable {
  private let lock = NSLock()
  private var messages: [String?]

  init(count: Int) { messages = Array(repeating: nil, count: count) }

  func set(_ k: Int, _ message: String?) { lock.withLock { messages[k] = message } }

  /// The reader's message (every engine is given the same).
  var failure: String? { lock.withLock { messages.compactMap { $0 }.first } }
}

/// A barrier that runs `whenAll` once every party has arrived, before any leaves.
final class Meeting: @unchecked Sendable {
  private let parties: Int
  private let whenAll: () -> Void
  private let condition = NSCondition()
  private var arrived = 0
  private var round = 0

  init(parties: Int, whenAll: @escaping () -> Void) {
    self.parties = parties
    self.whenAll = whenAll
  }

  func arrive() {
    condition.lock()
    defer { condition.unlock() }
    let mine = round
    arrived += 1
    if arrived == parties {
      whenAll()
      arrived = 0
      round += 1
      condition.broadcast()
      return
    }
    while round == mine { condition.wait() }
  }
}
