import Bytes
import Foundation
import Journal
import Ledger
import Synchronization
import Wire

/// The single writer: validates producer messages, applies them to the ledger, commits them to
/// the journal, and only then publishes and answers. One thread at a time owns the ledger and the
/// journal connection: the driver's (see `Driver`).
///
/// Group commit falls out of the drain's shape: the driver takes *everything* queued, processes
/// it, and commits it in one transaction; whatever arrives during that commit is the next batch.
///
/// Reads that must be consistent with what subscribers saw (snapshots, resumes, history) are
/// queued the same way, so they run between commits and see exactly the published state.
public final class IngestPipeline: MessageSink, @unchecked Sendable {
    // Safety: `ledger`, `journal`, `seqByArrival`, counters are touched only on the driver's
    // thread; the inbox and cursor cache are behind mutexes.

    /// Who runs the pipeline's work.
    public enum Driver: Sendable {
        /// A dedicated `ingest` thread, woken per burst. Right when a commit blocks for long
        /// (`synchronous=FULL`: an fsync per transaction), so the event loop never waits on a disk.
        case ownThread
        /// Another thread's loop, Redis style: `wake` is called when the queue goes from empty to
        /// non-empty and must make that thread call `drainQueued()` soon; `isDriverThread` tells
        /// whether the caller is that thread. Under `synchronous=NORMAL` a commit is a `write()`
        /// into the page cache, so the server's event loop parses, applies, commits and fans out
        /// in one turn, with no thread hand-off either way.
        case external(wake: @Sendable () -> Void, isDriverThread: @Sendable () -> Bool)
    }

    public struct Options: Sendable {
        public var checkpointEvery = 10_000
        /// Also checkpoint when this many seconds passed since the last one with events in between.
        public var checkpointSeconds: Double = 60
        /// A checkpoint is stored a piece of at most this many bytes per commit, so that no
        /// commit writes (or, when it is superseded, frees) the whole ledger at once.
        public var checkpointPieceBytes = 1 << 20
        public var snapshotFills = 200
        public var maxResumeEvents = 200_000
        /// Gets start-up recovery's progress lines when it takes more than a second.
        public var recoveryProgress: (@Sendable (String) -> Void)? = nil
        public init() {}
    }

    public enum Item: Sendable {
        case message(ProducerMessage)
        /// Refused before it reached the pipeline (unreadable, not allowed): answered in order, audited.
        case refused(code: String, message: String, ref: String?)
        /// Carry every open position to the next trading day's SOD (admin command or the scheduled roll).
        case dayRoll
        /// A bust, correction or order message from a producer whose token is scoped to `accounts`:
        /// it may only touch fills and orders of those accounts (the fill's account is known only to the ledger).
        case scoped(ProducerMessage, accounts: Set<String>)

        /// What a reply or audit entry names.
        var ref: String? {
            switch self {
            case .message(let message), .scoped(let message, _): return message.ref
            case .refused(_, _, let ref): return ref
            case .dayRoll: return "dayroll"
            }
        }
    }

    enum Work: Sendable {
        case submit(items: [Item], source: String, atomic: Bool, cursor: (name: String, value: String)?,
                    completion: @Sendable ([SubmitResult]) -> Void)
        case read(@Sendable (borrowing ReadContext) -> Void)
        case audit(AuditEntry)
        case stop(@Sendable () -> Void)
    }

    public let options: Options
    public let encoder: MessageEncoder
    public let epoch: String
    var ledger: Ledger
    let journal: any EventStore
    let translation: MessageTranslation
    /// The seq of the event that applied each of the ledger's fills, by arrival (one append per
    /// fill applied, so it always holds `ledger.fillCount` seqs). With the ledger's execId →
    /// arrival index it answers execId → seq (`seq(ofExecId:in:)`): 8 bytes a fill, where a
    /// second execId dictionary took 50–120 MiB at a million fills.
    var seqByArrival: [Int64]
    private let checkpoints: LedgerCheckpointer
    /// (orderId, version) → the seq that stored it: order messages' idempotency, as
    /// `seq(ofExecId:in:)` is fills'.
    var orderIndex: [OrderVersion: Int64]
    private let publish: @Sendable ([CommittedEvent]) -> Void
    private let inbox = Mutex<[Work]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let driver = Mutex<Driver>(.ownThread)
    /// Set by the `.stop` work item: nothing queued after it runs.
    private let stopped = Atomic<Bool>(false)
    private let cursorCache = Mutex<[String: String]>([:])
    private var thread: Thread?
    public let statistics = PipelineStatistics()
    /// Shared by the driver and the snapshot encoding queue.
    let snapshotCache = SnapshotCache()

    /// `publish` runs on the pipeline thread right after each commit, before any reply: it must
    /// only hand the events over (e.g. post them to the loop's mailbox).
    public init(journal: any EventStore, catalog: InstrumentCatalog, config: LedgerConfig, options: Options,
                publish: @escaping @Sendable ([CommittedEvent]) -> Void) throws(RecoveryError) {
        self.journal = journal
        self.options = options
        self.publish = publish
        self.encoder = MessageEncoder(catalog: catalog)
        self.translation = MessageTranslation(catalog: catalog)
        self.epoch = journal.epoch
        let recovered = try Recovery.recover(journal: journal, catalog: catalog, config: config, progress: options.recoveryProgress)
        self.checkpoints = LedgerCheckpointer(every: options.checkpointEvery, seconds: options.checkpointSeconds,
                                              pieceBytes: options.checkpointPieceBytes, logStored: recovered.checkpointFillLog,
                                              eventsSinceStored: recovered.replayed)
        self.ledger = recovered.ledger
        self.seqByArrival = recovered.seqByArrival
        self.orderIndex = recovered.orderIndex
        statistics.recoveredEvents.store(recovered.replayed, ordering: .relaxed)
        statistics.lastSeq.store(journal.lastSeq, ordering: .relaxed)
    }

    /// Starts processing queued work with `driver` (a dedicated thread unless told otherwise).
    public func start(driver: Driver = .ownThread) {
        self.driver.withLock { $0 = driver }
        switch driver {
        case .ownThread:
            let thread = Thread { [self] in run() }
            thread.name = "ingest"
            thread.stackSize = 8 << 20
            self.thread = thread
            thread.start()
        case .external(let wake, _):
            if !inbox.withLock({ $0.isEmpty }) { wake() }
        }
    }

    /// Finishes everything queued before it, then stops. On an external driver's own thread
    /// (the loop has returned) that happens before this returns.
    public func stop(then done: @escaping @Sendable () -> Void) {
        if stopped.load(ordering: .acquiring) { return done() }
        enqueue(.stop(done))
        if onExternalDriverThread { drainQueued() }
    }

    private func enqueue(_ work: Work) {
        let depth = inbox.withLock { items -> Int in
            items.append(work)
            return items.count
        }
        statistics.inboxDepth.store(depth, ordering: .relaxed)
        wakeDriver(queueWasEmpty: depth == 1)
    }

    private func wakeDriver(queueWasEmpty: Bool) {
        switch driver.withLock({ $0 }) {
        case .ownThread: wake.signal()
        // The drain takes the whole queue, so one wake-up per empty → non-empty edge is enough.
        case .external(let wake, _): if queueWasEmpty { wake() }
        }
    }

    private var onExternalDriverThread: Bool {
        if case .external(_, let isDriverThread) = driver.withLock({ $0 }) { return isDriverThread() }
        return false
    }

    /// Runs `read` as queued work and waits for it. On an external driver's own thread it cannot
    /// wait (the thread that would run it is this one): it drains the queue right here instead.
    private func readAndWait(_ body: @escaping @Sendable (borrowing ReadContext) -> Void) {
        let semaphore = DispatchSemaphore(value: 0)
        enqueue(.read { context in
            body(context)
            semaphore.signal()
        })
        if onExternalDriverThread { drainQueued() }
        semaphore.wait()
    }

    // MARK: Public entry points (any thread)

    public func submit(_ messages: [ProducerMessage], source: String, cursor: (name: String, value: String)?,
                       completion: @escaping @Sendable ([SubmitResult]) -> Void) {
        enqueue(.submit(items: messages.map { .message($0) }, source: source, atomic: false, cursor: cursor, completion: completion))
    }

    /// Producer items; `atomic` = all or nothing (POST /api/fills): any rejection stores nothing.
    public func submit(items: [Item], source: String, atomic: Bool, completion: @escaping @Sendable ([SubmitResult]) -> Void) {
        enqueue(.submit(items: items, source: source, atomic: atomic, cursor: nil, completion: completion))
    }

    public func cursor(named name: String) -> String? {
        if let cached = cursorCache.withLock({ $0[name] }) { return cached }
        let value = Mutex<String?>(nil)
        readAndWait { context in
            let stored = try? context.journal.cursor(name)
            value.withLock { $0 = stored }
        }
        return value.withLock { $0 }
    }

    /// Records an audit entry (login failures, config loads) in the next transaction.
    public func audit(actor: String, action: String, detail: String) {
        enqueue(.audit(AuditEntry(time: wallClockNanos(), actor: actor, action: action, detail: detail)))
    }

    /// Runs `body` on the pipeline thread between commits (state = exactly what was published).
    public func read(_ body: @escaping @Sendable (borrowing ReadContext) -> Void) { enqueue(.read(body)) }

    /// Like `read`, unless `limit` or more work items are already queued: then nothing is queued
    /// and it returns false, so the caller answers "busy" instead of the queue growing without
    /// bound behind viewers (producers' `submit` is never refused this way).
    public func read(ifQueueBelow limit: Int, _ body: @escaping @Sendable (borrowing ReadContext) -> Void) -> Bool {
        let depth = inbox.withLock { items -> Int? in
            guard items.count < limit else { return nil }
            items.append(.read(body))
            return items.count
        }
        guard let depth else {
            statistics.readsRefused.add(1, ordering: .relaxed)
            return false
        }
        statistics.inboxDepth.store(depth, ordering: .relaxed)
        wakeDriver(queueWasEmpty: depth == 1)
        return true
    }

    // MARK: Draining

    /// The dedicated thread's loop (`Driver.ownThread`).
    private func run() {
        while !stopped.load(ordering: .relaxed) {
            if wake.wait(timeout: .now() + 1) == .timedOut {
                idleTick()
                continue
            }
            let work = takeQueued()
            // Consume the extra signals of this burst: one pass handles them all.
            for _ in 1..<max(work.count, 1) { _ = wake.wait(timeout: .now()) }
            process(work)
        }
    }

    /// Processes everything queued so far (`Driver.external`: on the driver's thread only).
    public func drainQueued() {
        guard !stopped.load(ordering: .relaxed) else { return }
        process(takeQueued())
    }

    /// Starts a ledger checkpoint when one is due, stores the next piece of one whose encoding
    /// has finished, and removes a piece of a superseded one. The dedicated thread calls it after
    /// a second without work; an external driver about once a second (a timer on the loop), on
    /// its thread.
    public func idleTick() {
        guard !stopped.load(ordering: .relaxed) else { return }
        if writesStopped == nil { checkpoints.startIfDue(ledger: ledger, seq: journal.lastSeq) }
        var idle = Batch()
        addCheckpointWork(to: &idle)
        commit(&idle)
    }

    /// The checkpoint work a commit carries along: the next piece to store, and the removal of
    /// a superseded piece (the journal does that in any commit; this makes sure there is one).
    /// None after a failed commit until one succeeds: on a full disk the extra bytes would make
    /// commits of events fail, and each failure costs a rebuild of the ledger.
    private func addCheckpointWork(to batch: inout Batch) {
        guard mayStoreCheckpoints else { return }
        if batch.checkpointPieces.isEmpty { batch.checkpointPieces = checkpoints.nextPiece() }
        batch.cleansCheckpoints = journal.checkpointCleanupPending
    }

    private func takeQueued() -> [Work] {
        let work = inbox.withLock { items -> [Work] in
            let taken = items
            items.removeAll(keepingCapacity: true)
            return taken
        }
        statistics.inboxDepth.store(0, ordering: .relaxed)
        return work
    }

    private func process(_ work: [Work]) {
        var batch = Batch()
        for item in work {
            switch item {
            case .submit(let items, let source, let atomic, let cursor, let completion):
                if let reason = writesStopped {
                    refuseWrites(items.count, reason: reason, completion: completion)
                } else {
                    process(items, source: source, atomic: atomic, cursor: cursor, completion: completion, into: &batch)
                }
            case .audit(let entry):
                if writesStopped == nil { batch.audit.append(entry) }
            case .read(let body):
                commit(&batch)
                body(ReadContext(pipeline: self))
            case .stop(let done):
                // A checkpoint being encoded is waited for and stored: a clean stop leaves a
                // checkpoint as recent as the work allowed.
                if mayStoreCheckpoints { batch.checkpointPieces = checkpoints.finishInFlight() }
                commit(&batch)
                stopped.store(true, ordering: .releasing)
                done()
                return
            }
        }
        addCheckpointWork(to: &batch)
        commit(&batch)
    }

    private func process(_ items: [Item], source: String, atomic: Bool, cursor: (name: String, value: String)?,
                         completion: @escaping @Sendable ([SubmitResult]) -> Void, into batch: inout Batch) {
        var results: [SubmitResult]
        let firstSeq = journal.lastSeq + Int64(batch.events.count) + 1
        if atomic, let refusals = validateAtomically(items, source: source, batch: batch) {
            // All or nothing: one item is wrong, so none is applied; only the rejections are audited.
            results = refusals.map { $0 ?? .rejected(code: "not_applied", message: "not applied: another item of this request was rejected") }
            let now = wallClockNanos()
            for (item, refusal) in zip(items, refusals) {
                guard case .rejected(let code, let message)? = refusal else { continue }
                batch.audit.append(AuditEntry(time: now, actor: source, action: "reject", detail: "\(item.ref ?? "-") \(code): \(message)"))
            }
        } else {
            // Straight into the live ledger: a trial copy would duplicate the whole fill store.
            (results, _) = apply(items, source: source, firstSeq: firstSeq, ledger: &ledger, into: &batch)
            if let cursor { batch.cursors.append(SourceCursor(name: cursor.name, value: cursor.value)) }
        }
        batch.replies.append((results, completion))
    }

    private func commit(_ batch: inout Batch) {
        guard !batch.isEmpty else { return }
        defer { batch = Batch() }
        guard batch.needsTransaction else {
            answer(batch.replies)
            return
        }
        let started = Monotonic.now()
        do {
            _ = try journal.append(batch.events, audit: batch.audit, cursors: batch.cursors, checkpointPieces: batch.checkpointPieces)
        } catch {
            commitFailed(batch, error: error)
            return
        }
        statistics.recordCommit(nanoseconds: Monotonic.now().nanoseconds - started.nanoseconds, events: batch.events.count)
        if case .failing = statistics.storage.withLock({ $0 }) { statistics.storage.withLock { $0 = .ok } }
        checkpoints.stored(batch.checkpointPieces)
        checkpoints.committed(batch.events.count, ledger: ledger, seq: journal.lastSeq)
        for (key, seq) in batch.newOrderVersions { orderIndex[key] = seq }
        for cursor in batch.cursors { cursorCache.withLock { $0[cursor.name] = cursor.value } }
        statistics.lastSeq.store(journal.lastSeq, ordering: .relaxed)
        if !batch.committed.isEmpty { publish(batch.committed) }
        answer(batch.replies)
    }

    /// Replies after a commit (or for a batch with nothing to store), counted as they go out.
    private func answer(_ replies: [(results: [SubmitResult], completion: @Sendable ([SubmitResult]) -> Void)]) {
        for reply in replies {
            for result in reply.results {
                switch result {
                case .ack: statistics.acked.add(1, ordering: .relaxed)
                case .duplicate: statistics.duplicates.add(1, ordering: .relaxed)
                case .rejected: statistics.rejected.add(1, ordering: .relaxed)
                }
            }
            reply.completion(reply.results)
        }
    }

    /// Nothing of the batch is durable, but the ledger already holds its events: rebuild the
    /// ledger and the fill seqs from the journal, so memory equals storage again. Every item
    /// of the batch is answered `storage_error` (never an ack, and never a duplicate of a copy
    /// that was rolled back), so retrying is safe. If the rebuild fails too, memory can no longer
    /// be trusted: writes stop, and `/healthz` and every producer say so.
    private func commitFailed(_ batch: Batch, error: JournalError) {
        statistics.storageErrors.add(1, ordering: .relaxed)
        let failure = SubmitResult.rejected(code: "storage_error", message: "not stored: \(error.message)")
        do throws(RecoveryError) {
            let recovered = try Recovery.recover(journal: journal, catalog: encoder.catalog, config: ledger.config)
            ledger = recovered.ledger
            seqByArrival = recovered.seqByArrival
            orderIndex = recovered.orderIndex
            statistics.storage.withLock { $0 = .failing(error.message) }
        } catch let rebuild {
            let reason = "a commit failed (\(error.message)) and the ledger could not be rebuilt from the journal (\(rebuild.description)); restart the server"
            writesStopped = reason
            statistics.storage.withLock { $0 = .stopped(reason) }
        }
        for reply in batch.replies {
            statistics.rejected.add(reply.results.count, ordering: .relaxed)
            reply.completion(reply.results.map { _ in failure })
        }
    }

    private var mayStoreCheckpoints: Bool { writesStopped == nil && statistics.storage.withLock({ $0 }) == .ok }

    /// Set once a failed commit could not be undone; every later write is refused with it.
    private(set) var writesStopped: String?

    /// The answer to every item while writes are stopped.
    private func refuseWrites(_ count: Int, reason: String, completion: @Sendable ([SubmitResult]) -> Void) {
        statistics.rejected.add(count, ordering: .relaxed)
        completion(Array(repeating: .rejected(code: "storage_error", message: "writes stopped: \(reason)"), count: count))
    }
}

extension IngestPipeline: PositionReader {
    /// The ledger's positions as committed, read on the pipeline thread between commits (for the
    /// reconciliation monitor; it waits for the read like `cursor(named:)`).
    public func committedPositions() -> [PositionLine] {
        let lines = Mutex<[PositionLine]>([])
        readAndWait { context in
            let positions = context.ledger.positions
            lines.withLock { $0 = positions }
        }
        return lines.withLock { $0 }
    }
}
