/// What flows learn of each other's pushes: readable miners' job pushes by algorithm, and the
/// pushes of flows judged by their rhythm (SessionTracker.corroborate reads both).
///
/// A tracker's notes wait and are published at the timeline's sample points (and before the
/// last flush), in scan order. A sharded scan runs one tracker per engine, in parallel; each
/// engine stops at every sample point (shards.c), so all trackers read the same published
/// notes as one tracker would — notes made before the last sample point — and none reads
/// another's notes while they are written. The price is hindsight of at most one sample step
/// (10 s of packet time) for a verdict; a flow's later looks and its end see the rest.
public final class PushNotes {
  private(set) var jobs = JobTimes()
  private(set) var suspects = SuspectPushes()

  enum Note {
    case job(label: String, ns: UInt64)
    case suspect(flow: UInt64, server: Endpoint, times: [UInt64], hint: String?)
  }

  /// A note and the place in the scan of the packet that made it.
  struct Pending {
    var position: UInt64
    var note: Note
  }

  public init() {}

  /// Applies the trackers' waiting notes in scan order and clears them. Notes of one packet
  /// come from the one tracker whose engine owns it, in the order made (a stable order).
  func publish(_ trackers: [SessionTracker]) {
    var all: [(position: UInt64, tracker: Int, index: Int, note: Note)] = []
    for (t, tracker) in trackers.enumerated() {
      for (i, p) in tracker.pendingNotes.enumerated() { all.append((p.position, t, i, p.note)) }
      tracker.pendingNotes.removeAll(keepingCapacity: true)
    }
    all.sort { ($0.position, $0.tracker, $0.index) < ($1.position, $1.tracker, $1.index) }
    for n in all {
      switch n.note {
      case .job(let label, let ns): jobs.note(label, at: ns)
      case .suspect(let flow, let server, let times, let hint):
        suspects.note(flow: flow, server: server, times: times, hint: hint)
      }
    }
  }
}
