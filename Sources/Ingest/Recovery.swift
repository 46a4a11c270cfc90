import Bytes
import Foundation
import Journal
import Ledger
import Synchronization

public struct RecoveryError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Start-up: the newest ledger checkpoint, then every event after it, replayed in seq order.
enum Recovery {
    struct Result {
        var ledger: Ledger
        /// The seq of the event that stored each of the ledger's fills, by arrival.
        var seqByArrival: [Int64]
        var orderIndex: [OrderVersion: Int64]
        var replayed: Int
        /// See `LedgerReplay.Outcome.checkpointFillLog`.
        var checkpointFillLog: Int
    }

    /// A recovery that takes longer than this reports where its time went (`progress`).
    static let breakdownAfterSeconds = 0.25

    static func recover(journal: any EventStore, catalog: InstrumentCatalog, config: LedgerConfig,
                        progress: (@Sendable (String) -> Void)? = nil) throws(RecoveryError) -> Result {
        let started = Monotonic.now()
        // The fill seqs and the order dedupe index are read on another thread, from a connection
        // of its own, while this one restores the checkpoint and replays (the machine has two
        // cores). The ledger's own execId index gives a fill's arrival; these give its seq.
        let indexes = DedupeIndexReading(journal: journal)
        let replay: LedgerReplay.Outcome
        do { replay = try LedgerReplay.replay(journal: journal, catalog: catalog, config: config, progress: progress) } catch {
            _ = try? indexes.finish()
            throw error
        }
        let ledgerDone = Monotonic.now()
        let read = try indexes.finish()
        // Every fill event appended one fill to the ledger, in seq order: the k-th seq is the
        // k-th arrival's. A journal whose fill index disagrees with its events is not served.
        guard read.fillSeqs.count == replay.ledger.fillCount else {
            throw RecoveryError(description: "the journal's fill index lists \(read.fillSeqs.count) fill events but replaying"
                                + " the journal gave the ledger \(replay.ledger.fillCount) fills; run `ladderwire db check`")
        }
        // The right count could still pair seqs with the wrong fills: the first, middle and last
        // arrivals must name the fill their seq's event stored (three rowid lookups).
        let count = read.fillSeqs.count
        for arrival in count == 0 ? [] : Set([0, count / 2, count - 1]).sorted() {
            let seq = read.fillSeqs[arrival]
            let expected = replay.ledger.execId(arrival: Int32(arrival))
            let stored: String?
            do { stored = try journal.execId(ofFillAt: seq) } catch {
                throw RecoveryError(description: "cannot read the journal: \(error.message)")
            }
            guard stored == expected else {
                throw RecoveryError(description: "the journal's fill index pairs fill \(arrival) (\(expected)) with seq \(seq),"
                                    + " which stored \(stored.map { "fill \($0)" } ?? "no fill"); run `ladderwire db check`")
            }
        }
        let total = Monotonic.now().seconds(since: started)
        if let progress, total >= breakdownAfterSeconds {
            progress(String(format: "recovery: %.3f s: checkpoint read %.3f s + restored %.3f s + %d events replayed %.3f s"
                            + " (ledger ready after %.3f s), alongside: %d fill seqs %.3f s + %d order versions %.3f s%@",
                            total, replay.checkpointReadSeconds, replay.restoreSeconds, replay.replayed, replay.replaySeconds,
                            ledgerDone.seconds(since: started), read.fillSeqs.count, read.fillSeqSeconds,
                            read.orderIndex.count, read.orderVersionSeconds, read.onOwnThread ? "" : " (same thread)"))
        }
        return Result(ledger: replay.ledger, seqByArrival: read.fillSeqs, orderIndex: read.orderIndex, replayed: replay.replayed,
                      checkpointFillLog: replay.checkpointFillLog)
    }
}

/// Reads the fill seqs and the order-version index, on a thread of its own with its own read-only
/// connection when the store is a `Journal` (else, as for the tests' fault-injecting store, on
/// the caller's thread and connection when `finish()` is called).
private final class DedupeIndexReading: @unchecked Sendable {
    // Safety: `journal` is only used by `finish()` on the caller's thread when there is no
    // reading thread; the thread's result is behind a mutex and published by the semaphore.
    struct Read: Sendable {
        var fillSeqs: [Int64] = []
        var orderIndex: [OrderVersion: Int64] = [:]
        var fillSeqSeconds = 0.0
        var orderVersionSeconds = 0.0
        var onOwnThread = false
    }

    private let journal: any EventStore
    private let result = Mutex<Result<Read, RecoveryError>?>(nil)
    private let done = DispatchSemaphore(value: 0)
    private let threaded: Bool

    init(journal: any EventStore) {
        self.journal = journal
        guard let writer = journal as? Journal else {
            threaded = false
            return
        }
        threaded = true
        var options = writer.options
        options.readOnly = true
        let thread = Thread { [self, options] in
            let outcome: Result<Read, RecoveryError>
            do throws(RecoveryError) {
                let reader: Journal
                do throws(JournalError) { reader = try Journal(options) } catch {
                    throw RecoveryError(description: "cannot open the journal to read its indexes: \(error.message)")
                }
                defer { reader.close() }
                var read = try Self.read(reader)
                read.onOwnThread = true
                outcome = .success(read)
            } catch {
                outcome = .failure(error)
            }
            result.withLock { $0 = outcome }
            done.signal()
        }
        thread.name = "recovery-indexes"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// The indexes (waiting for the reading thread).
    func finish() throws(RecoveryError) -> Read {
        guard threaded else { return try Self.read(journal) }
        done.wait()
        done.signal()
        switch result.withLock({ $0 })! {
        case .success(let read): return read
        case .failure(let error): throw error
        }
    }

    private static func read(_ store: any EventStore) throws(RecoveryError) -> Read {
        var read = Read()
        var started = Monotonic.now()
        do { read.fillSeqs = try store.allFillSeqs() } catch {
            throw RecoveryError(description: "cannot read the fill index: \(error.message)")
        }
        // Room for a million more fills (8 MiB) before the writer's first append that has to
        // reallocate and copy them all.
        read.fillSeqs.reserveCapacity(read.fillSeqs.count + (1 << 20))
        read.fillSeqSeconds = Monotonic.now().seconds(since: started)
        started = Monotonic.now()
        do { read.orderIndex = try store.allOrderVersions() } catch {
            throw RecoveryError(description: "cannot read the order index: \(error.message)")
        }
        read.orderVersionSeconds = Monotonic.now().seconds(since: started)
        return read
    }
}

/// The ledger rebuilt from the journal: from the newest checkpoint (or from nothing), replaying
/// every event after it in seq order. Start-up recovery, `ladderwire db check` and
/// `ladderwire export positions` use it.
public enum LedgerReplay {
    public struct Outcome: Sendable {
        public var ledger: Ledger
        /// Events applied on top of the starting point.
        public var replayed: Int
        /// The checkpoint's seq the replay started from (nil: from an empty ledger).
        public var checkpointSeq: Int64?
        /// How many fills of the stored fill log that checkpoint stands on (0: none, or it holds its fills).
        public var checkpointFillLog = 0
        /// The seq of the last event applied (or of the checkpoint).
        public var lastSeq: Int64
        /// Where the time went: reading the checkpoint, restoring the ledger from it, replaying.
        public var checkpointReadSeconds = 0.0
        public var restoreSeconds = 0.0
        public var replaySeconds = 0.0
    }

    /// - Parameters:
    ///   - useCheckpoint: start from the newest checkpoint (false: replay every event from seq 1).
    ///   - committedBefore: stop before the first event committed at or after this wall-clock
    ///     time (nanoseconds); the ledger as it stood then.
    ///   - lastSeqHint: the journal's last seq, for the progress line's percentage.
    ///   - progress: gets progress lines (`ProgressMeter`) when the replay outlasts its quiet period.
    public static func replay(journal: any EventStore, catalog: InstrumentCatalog, config: LedgerConfig,
                              useCheckpoint: Bool = true, committedBefore: Int64? = nil, lastSeqHint: Int64? = nil,
                              label: String = "recovery",
                              progress: (@Sendable (String) -> Void)? = nil) throws(RecoveryError) -> Outcome {
        var ledger = Ledger(catalog: catalog, config: config)
        var after: Int64 = 0
        var checkpointSeq: Int64?
        var checkpointFillLog = 0
        var phaseStarted = Monotonic.now()
        var checkpointReadSeconds = 0.0, restoreSeconds = 0.0
        do {
            if useCheckpoint, committedBefore == nil, let checkpoint = try journal.latestCheckpoint() {
                checkpointReadSeconds = Monotonic.now().seconds(since: phaseStarted)
                phaseStarted = Monotonic.now()
                checkpointSeq = checkpoint.seq
                checkpointFillLog = Int(checkpoint.fillCount ?? 0)
                ledger = try Ledger.restore(from: checkpoint.state, catalog: catalog, config: config)
                after = checkpoint.seq
                restoreSeconds = Monotonic.now().seconds(since: phaseStarted)
            }
        } catch {
            throw RecoveryError(description: "cannot restore the ledger checkpoint: \(error)")
        }
        let lastSeq = lastSeqHint ?? (journal as? Journal)?.lastSeq
        let meter = progress.map { ProgressMeter(label, unit: "events", total: lastSeq.map { Int(max(0, $0 - after)) }, write: $0) }
        var replayed = 0
        phaseStarted = Monotonic.now()
        replay: while true {
            let records: [EventRecord]
            do { records = try journal.events(after: after, limit: 50_000) } catch {
                throw RecoveryError(description: "cannot read the journal: \(error.message)")
            }
            guard !records.isEmpty else { break }
            for record in records {
                if let committedBefore, record.committedAt >= committedBefore { break replay }
                do {
                    let event = try EventCodec.decode(record.payload)
                    _ = try ledger.apply(event)
                } catch {
                    // A committed event was valid when it was applied; failing now means the
                    // code or the instrument file changed under the journal.
                    throw RecoveryError(description: "event \(record.seq) (\(record.kind)) does not replay: \(error)")
                }
                replayed += 1
                after = record.seq
            }
            meter?.update(replayed)
        }
        meter?.finish(replayed)
        return Outcome(ledger: ledger, replayed: replayed, checkpointSeq: checkpointSeq, checkpointFillLog: checkpointFillLog,
                       lastSeq: after,
                       checkpointReadSeconds: checkpointReadSeconds, restoreSeconds: restoreSeconds,
                       replaySeconds: Monotonic.now().seconds(since: phaseStarted))
    }
}
