import Bytes
import Foundation
import Synchronization

/// Copies the SQLite WAL back into the database file from its own connection and thread.
///
/// SQLite's automatic checkpoint runs inside whichever commit crosses the page threshold, and in
/// WAL mode a checkpoint fsyncs: a stall of tens of milliseconds on the ingest thread every few
/// thousand events, which every subscriber then sees as latency. This thread runs PASSIVE
/// checkpoints every `interval`, which never block the writer, so the writer's own automatic
/// checkpoint (kept at 4,000 pages by `serve`: only a checkpoint by the writer between its
/// transactions lets the WAL restart from the top under constant load) finds little to copy.
public final class WALCheckpointer: Sendable {
    private let path: String
    private let interval: Double
    private let stopping = Mutex(false)
    private let done = DispatchSemaphore(value: 0)

    public init(path: String, intervalSeconds: Double = 0.2) {
        self.path = path
        self.interval = intervalSeconds
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "wal-checkpoint"
        thread.start()
    }

    private func run() {
        defer { done.signal() }
        CurrentThread.name("wal-checkpoint")
        // Copy-back and its fsync are never urgent: they run when a core is otherwise idle.
        CurrentThread.lowerPriority()
        var options = JournalOptions(path: path)
        options.walAutocheckpointPages = 0
        guard let journal = try? Journal(options) else { return }
        defer { journal.close() }
        while !stopping.withLock({ $0 }) {
            Thread.sleep(forTimeInterval: interval)
            _ = try? journal.checkpointWAL()
        }
    }

    /// Stops after the current checkpoint (bounded by one interval plus one checkpoint).
    public func stop() {
        stopping.withLock { $0 = true }
        _ = done.wait(timeout: .now() + 5)
    }
}
