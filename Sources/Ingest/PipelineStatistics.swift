import Synchronization

/// Whether the journal takes writes. Shown on `/healthz` and `/metrics`.
public enum StorageState: Sendable, Equatable {
    /// The last commit succeeded.
    case ok
    /// The last commit failed; the ledger was rebuilt from the journal and writes go on (a disk
    /// that fills and empties again recovers by itself).
    case failing(String)
    /// A commit failed and the ledger could not be rebuilt from the journal either: the in-memory
    /// state can no longer be trusted, so every write is refused until the server restarts.
    case stopped(String)
}

/// Counters the pipeline thread updates and `/metrics` reads from the loop.
public final class PipelineStatistics: Sendable {
    public let acked = Atomic<Int>(0)
    public let duplicates = Atomic<Int>(0)
    public let rejected = Atomic<Int>(0)
    public let storageErrors = Atomic<Int>(0)
    public let commits = Atomic<Int>(0)
    public let committedEvents = Atomic<Int>(0)
    public let lastSeq = Atomic<Int64>(0)
    public let recoveredEvents = Atomic<Int>(0)
    /// Work items waiting for the ingest thread (producer messages, reads) at the last hand-off.
    public let inboxDepth = Atomic<Int>(0)
    /// Reads refused because the queue was full (`read(ifQueueBelow:)`).
    public let readsRefused = Atomic<Int>(0)
    /// Commit latency histogram, upper bounds in microseconds (last bucket = +Inf).
    public static let commitBucketsMicros: [Int] = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000]
    public let commitBuckets = Mutex<[Int]>(Array(repeating: 0, count: PipelineStatistics.commitBucketsMicros.count + 1))
    public let commitMicrosTotal = Atomic<Int>(0)
    public let storage = Mutex<StorageState>(.ok)

    init() {}

    func recordCommit(nanoseconds: Int64, events: Int) {
        commits.add(1, ordering: .relaxed)
        committedEvents.add(events, ordering: .relaxed)
        let micros = Int(nanoseconds / 1000)
        commitMicrosTotal.add(micros, ordering: .relaxed)
        let index = Self.commitBucketsMicros.firstIndex { micros <= $0 } ?? Self.commitBucketsMicros.count
        commitBuckets.withLock { $0[index] += 1 }
    }
}
