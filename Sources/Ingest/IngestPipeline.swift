import Bytes
import Foundation
import Journal
import Ledger
import Synchronization
import Wire

/// The single writer: validates producer messages, applies them to the ledger, commits them to
/// the journal, and only then publishes and answers. One dedicated thread owns the ledger and the
/// journal connection.
///
/// Group commit falls out of the loop's shape: the thread takes *everything* queued, processes
/// it, and commits it in one transaction; whatever arrives during that commit is the next batch.
///
/// Reads that must be consistent with what subscribers saw (snapshots, resumes, history) are
/// queued on the same thread, so they run between commits and see exactly the published state.
public final class IngestPipeline: MessageSink, @unchecked Sendable {
    // Safety: `ledger`, `journal`, `execIndex`, counters are touched only on the pipeline
    // thread; the inbox and cursor cache are behind mutexes.

    public struct Options: Sendable {
        public var checkpointEvery = 10_000
        /// Also checkpoint when this many seconds passed since the last one with events in between.
        public var checkpointSeconds: Double = 60
        public var snapshotFills = 200
        public var maxResumeEvents = 200_000
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
    var execIndex: [String: Int64]
    /// (orderId, version) → the seq that stored it: order messages' idempotency, like `execIndex`.
    var orderIndex: [OrderVersion: Int64]
    var eventsSinceCheckpoint = 0
    private let publish: @Sendable ([CommittedEvent]) -> Void
    private let inbox = Mutex<[Work]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let cursorCache = Mutex<[String: String]>([:])
    private var thread: Thread?
    public let statistics = PipelineStatistics()
    /// Pipeline thread only.
    let snapshotCache = ReadContext.SnapshotCache()

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
        let recovered = try Recovery.recover(journal: journal, catalog: catalog, config: config)
        self.ledger = recovered.ledger
        self.execIndex = recovered.execIndex
        self.orderIndex = recovered.orderIndex
        statistics.recoveredEvents.store(recovered.replayed, ordering: .relaxed)
        statistics.lastSeq.store(journal.lastSeq, ordering: .relaxed)
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "ingest"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Finishes everything queued before it, then stops the thread.
    public func stop(then done: @escaping @Sendable () -> Void) { enqueue(.stop(done)) }

    private func enqueue(_ work: Work) {
        let depth = inbox.withLock { items -> Int in
            items.append(work)
            return items.count
        }
        statistics.inboxDepth.store(depth, ordering: .relaxed)
        wake.signal()
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
        // Before the thread starts (monitor start-up), the journal is not yet shared.
        let semaphore = DispatchSemaphore(value: 0)
        let value = Mutex<String?>(nil)
        enqueue(.read { context in
            let stored = try? context.journal.cursor(name)
            value.withLock { $0 = stored }
            semaphore.signal()
        })
        semaphore.wait()
        return value.withLock { $0 }
    }

    /// Records an audit entry (login failures, config loads) in the next transaction.
    public func audit(actor: String, action: String, detail: String) {
        enqueue(.audit(AuditEntry(time: wallClockNanos(), actor: actor, action: action, detail: detail)))
    }

    /// Runs `body` on the pipeline thread between commits (state = exactly what was published).
    public func read(_ body: @escaping @Sendable (borrowing ReadContext) -> Void) { enqueue(.read(body)) }

    // MARK: The thread

    private func run() {
        while true {
            if wake.wait(timeout: .now() + 1) == .timedOut {
                checkpointIfDue()
                var idle = Batch()
                idle.checkpoint = takeEncodedCheckpoint()
                commit(&idle)
                continue
            }
            let work = inbox.withLock { items -> [Work] in
                let taken = items
                items.removeAll(keepingCapacity: true)
                return taken
            }
            statistics.inboxDepth.store(0, ordering: .relaxed)
            // Consume the extra signals of this burst: one pass handles them all.
            for _ in 1..<max(work.count, 1) { _ = wake.wait(timeout: .now()) }
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
                    if checkpointInFlight { checkpointEncoded.wait(); checkpointEncoded.signal() }
                    batch.checkpoint = takeEncodedCheckpoint() ?? batch.checkpoint
                    commit(&batch)
                    done()
                    return
                }
            }
            if batch.checkpoint == nil { batch.checkpoint = takeEncodedCheckpoint() }
            commit(&batch)
        }
    }

    /// Everything one transaction will hold, and what to do once it is durable.
    struct Batch {
        var events: [NewEvent] = []
        var committed: [CommittedEvent] = []
        var audit: [AuditEntry] = []
        var cursors: [SourceCursor] = []
        var replies: [(results: [SubmitResult], completion: @Sendable ([SubmitResult]) -> Void)] = []
        var newExecIds: [String: Int64] = [:]
        var newOrderVersions: [OrderVersion: Int64] = [:]
        var checkpoint: (seq: Seq, state: [UInt8])?
        var isEmpty: Bool { events.isEmpty && audit.isEmpty && cursors.isEmpty && replies.isEmpty && checkpoint == nil }
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

    /// Checks a whole request against the ledger without changing anything (`Ledger.check(batch:)`
    /// sees the effect of earlier items of the batch). Nil when every item would be accepted;
    /// else the rejection of each failing item (nil for the ones that would pass).
    private func validateAtomically(_ items: [Item], source: String, batch: Batch) -> [SubmitResult?]? {
        let now = wallClockNanos()
        var refusals = [SubmitResult?](repeating: nil, count: items.count)
        var events: [LedgerEvent] = []
        var eventItem: [Int] = []
        var seen = Set<String>()
        var seenOrders = Set<OrderVersion>()
        var pendingFills: [String: String] = [:]
        var pendingOrders: [String: (instrument: String, version: Int64)] = [:]
        for (index, item) in items.enumerated() {
            switch item {
            case .refused(let code, let message, _):
                refusals[index] = .rejected(code: code, message: message)
            case .dayRoll:
                events.append(.dayRoll(time: now))
                eventItem.append(index)
            case .message(let message), .scoped(let message, _):
                if case .fill(let execId, _, _, _, _, _, _, _) = message {
                    if execIndex[execId] != nil || batch.newExecIds[execId] != nil || !seen.insert(execId).inserted { continue }
                }
                if let key = orderKey(message) {
                    if orderIndex[key] != nil || batch.newOrderVersions[key] != nil || !seenOrders.insert(key).inserted { continue }
                }
                do throws(Rejection) {
                    if case .scoped(_, let accounts) = item { try checkScope(message, accounts: accounts, ledger: ledger) }
                    let event = try translation.event(for: message, source: source, now: now, ledger: ledger, pendingFills: pendingFills,
                                                      pendingOrders: pendingOrders)
                    if case .fill(let fill) = event { pendingFills[fill.execId] = fill.instrument }
                    if case .order(let order) = event {
                        let instrument = order.instrument ?? pendingOrders[order.orderId]?.instrument
                            ?? ledger.order(order.orderId)?.instrument ?? ""
                        pendingOrders[order.orderId] = (instrument, order.version)
                    }
                    events.append(event)
                    eventItem.append(index)
                } catch {
                    refusals[index] = .rejected(code: error.code, message: error.message)
                }
            }
        }
        for (position, failure) in ledger.check(batch: events).enumerated() {
            if let failure { refusals[eventItem[position]] = .rejected(code: failure.code, message: failure.message) }
        }
        return refusals.contains { $0 != nil } ? refusals : nil
    }

    /// Applies items one by one; a rejected item changes nothing but the audit.
    private func apply(_ items: [Item], source: String, firstSeq: Int64, ledger: inout Ledger,
                       into batch: inout Batch) -> ([SubmitResult], Bool) {
        let now = wallClockNanos()
        var results: [SubmitResult] = []
        results.reserveCapacity(items.count)
        var nextSeq = firstSeq
        var anyRejected = false
        for item in items {
            switch item {
            case .refused(let code, let message, let ref):
                anyRejected = true
                results.append(.rejected(code: code, message: message))
                batch.audit.append(AuditEntry(time: now, actor: source, action: "reject", detail: "\(ref ?? "-") \(code): \(message)"))
            case .dayRoll:
                do throws(Rejection) {
                    let event = LedgerEvent.dayRoll(time: now)
                    let deltas: [LedgerDelta]
                    do { deltas = try ledger.apply(event) } catch { throw Rejection(code: error.code, message: error.message) }
                    let seq = nextSeq
                    nextSeq += 1
                    record(event, deltas: deltas, seq: seq, source: source, ledger: ledger, into: &batch)
                    batch.audit.append(AuditEntry(time: now, actor: source, action: "dayroll", detail: "positions carried to the next trading day", seq: seq))
                    results.append(.ack(seq: seq))
                } catch {
                    anyRejected = true
                    results.append(.rejected(code: error.code, message: error.message))
                }
            case .message(let message), .scoped(let message, _):
                if case .fill(let execId, _, _, _, _, _, _, _) = message,
                   let seq = execIndex[execId] ?? batch.newExecIds[execId] {
                    results.append(.duplicate(seq: seq))
                    continue
                }
                if let key = orderKey(message), let seq = orderIndex[key] ?? batch.newOrderVersions[key] {
                    results.append(.duplicate(seq: seq))
                    continue
                }
                do throws(Rejection) {
                    if case .scoped(_, let accounts) = item { try checkScope(message, accounts: accounts, ledger: ledger) }
                    let event = try translation.event(for: message, source: source, now: now, ledger: ledger)
                    let deltas: [LedgerDelta]
                    do { deltas = try ledger.apply(event) } catch { throw Rejection(code: error.code, message: error.message) }
                    let seq = nextSeq
                    nextSeq += 1
                    record(event, deltas: deltas, seq: seq, source: source, ledger: ledger, into: &batch)
                    switch event {
                    case .fill(let fill): batch.newExecIds[fill.execId] = seq
                    case .order(let order): batch.newOrderVersions[OrderVersion(orderId: order.orderId, version: order.version)] = seq
                    case .bust: batch.audit.append(AuditEntry(time: now, actor: source, action: "bust", detail: message.ref, seq: seq))
                    case .correct: batch.audit.append(AuditEntry(time: now, actor: source, action: "correct", detail: message.ref, seq: seq))
                    case .sod: batch.audit.append(AuditEntry(time: now, actor: source, action: "sod", detail: message.ref, seq: seq))
                    default: break
                    }
                    results.append(.ack(seq: seq))
                } catch {
                    anyRejected = true
                    results.append(.rejected(code: error.code, message: error.message))
                    batch.audit.append(AuditEntry(time: now, actor: source, action: "reject", detail: "\(message.ref) \(error.code): \(error.message)"))
                }
            }
        }
        return (results, anyRejected)
    }

    /// The idempotency key an order message names without looking at the ledger: its explicit
    /// version, or version 1 for a `new` (a resent new). Nil for other messages, and for a
    /// replace, cancel or reject without a version (it means "the next version").
    private func orderKey(_ message: ProducerMessage) -> OrderVersion? {
        guard case .order(let order) = message else { return nil }
        if let version = order.version { return OrderVersion(orderId: order.orderId, version: version) }
        return order.action == .new ? OrderVersion(orderId: order.orderId, version: 1) : nil
    }

    /// A scoped producer's bust or correction must name a fill of one of its accounts, and its
    /// order messages an order of one of them (a new order names its account; the others are
    /// checked against the order the ledger holds). A fill or order that does not exist is left
    /// to the translation and the ledger (`unknown_fill`, `unknown_order`).
    private func checkScope(_ message: ProducerMessage, accounts: Set<String>, ledger: Ledger) throws(Rejection) {
        switch message {
        case .order(let order):
            if let account = order.account ?? ledger.order(order.orderId)?.account, !accounts.contains(account) {
                throw Rejection(code: "unauthorized_account", message: "this token may not change order '\(order.orderId)' of account '\(account)'")
            }
        case .bust(let execId), .correct(let execId, _, _):
            if let account = ledger.fill(execId: execId)?.fill.account, !accounts.contains(account) {
                throw Rejection(code: "unauthorized_account", message: "this token may not change fill '\(execId)' of account '\(account)'")
            }
        default:
            break
        }
    }

    // MARK: Ledger checkpoints, encoded off the ingest thread

    private var lastCheckpoint = Monotonic.now()
    private var checkpointInFlight = false
    private let encodedCheckpoint = Mutex<(seq: Seq, state: [UInt8])?>(nil)
    private let checkpointEncoded = DispatchSemaphore(value: 0)

    /// The time-based checkpoint: between batches, only when events arrived since the last one.
    private func checkpointIfDue() {
        guard eventsSinceCheckpoint > 0, Monotonic.now().seconds(since: lastCheckpoint) >= options.checkpointSeconds else { return }
        startCheckpoint()
    }

    /// Encodes the ledger as of now on another thread: the ledger is a value, so the copy is
    /// taken in O(1) and ingest goes on (its next change copies only the storage it touches);
    /// the bytes come back to be stored with a later commit. Encoding a day's fills takes ~0.1 s
    /// at a million fills: on this thread it would be a stall every subscriber sees.
    private func startCheckpoint() {
        guard !checkpointInFlight, writesStopped == nil else { return }
        checkpointInFlight = true
        eventsSinceCheckpoint = 0
        lastCheckpoint = Monotonic.now()
        let copy = ledger, seq = journal.lastSeq
        DispatchQueue.global(qos: .utility).async { [self] in
            let state = copy.encodeState()
            encodedCheckpoint.withLock { $0 = (seq, state) }
            checkpointEncoded.signal()
        }
    }

    /// The encoded checkpoint if it is ready (never waits).
    private func takeEncodedCheckpoint() -> (seq: Seq, state: [UInt8])? {
        guard checkpointInFlight, checkpointEncoded.wait(timeout: .now()) == .success else { return nil }
        checkpointInFlight = false
        return encodedCheckpoint.withLock { value in
            defer { value = nil }
            return value
        }
    }

    /// Encodes an applied event's deltas once and adds its journal row and published messages.
    private func record(_ event: LedgerEvent, deltas: [LedgerDelta], seq: Int64, source: String, ledger: Ledger,
                        into batch: inout Batch) {
        // An event that changed nothing (a repeated SOD, a roll with no positions) still used a
        // seq: the desk totals carry it, so an unfiltered client can tell that seqs are gapless.
        let messages = encoder.messages(for: deltas.isEmpty ? [.desk(ledger.desk)] : deltas, seq: seq)
        // The journal keeps the same bytes the subscribers got, as one JSON array.
        var array: [UInt8] = [UInt8(ascii: "[")]
        array.reserveCapacity(messages.reduce(2) { $0 + $1.jsonBytes.count + 1 })
        for (index, message) in messages.enumerated() {
            if index > 0 { array.append(UInt8(ascii: ",")) }
            array.append(contentsOf: message.jsonBytes)
        }
        array.append(UInt8(ascii: "]"))
        let deltasJSON = String(decoding: array, as: UTF8.self)
        batch.events.append(translation.journalEvent(for: event, ledgerAfter: ledger, deltas: deltasJSON, source: source))
        batch.committed.append(CommittedEvent(seq: seq, messages: messages))
    }

    private func commit(_ batch: inout Batch) {
        guard !batch.isEmpty else { return }
        defer { batch = Batch() }
        guard !batch.events.isEmpty || !batch.audit.isEmpty || !batch.cursors.isEmpty || batch.checkpoint != nil else {
            answer(batch.replies)
            return
        }
        eventsSinceCheckpoint += batch.events.count
        let started = Monotonic.now()
        do {
            _ = try journal.append(batch.events, audit: batch.audit, cursors: batch.cursors, checkpoint: batch.checkpoint)
        } catch {
            commitFailed(batch, error: error)
            return
        }
        statistics.recordCommit(nanoseconds: Monotonic.now().nanoseconds - started.nanoseconds, events: batch.events.count)
        if case .failing = statistics.storage.withLock({ $0 }) { statistics.storage.withLock { $0 = .ok } }
        if eventsSinceCheckpoint >= options.checkpointEvery { startCheckpoint() }
        for (execId, seq) in batch.newExecIds { execIndex[execId] = seq }
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
    /// ledger and the execId index from the journal, so memory equals storage again. Every item
    /// of the batch is answered `storage_error` (never an ack, and never a duplicate of a copy
    /// that was rolled back), so retrying is safe. If the rebuild fails too, memory can no longer
    /// be trusted: writes stop, and `/healthz` and every producer say so.
    private func commitFailed(_ batch: Batch, error: JournalError) {
        statistics.storageErrors.add(1, ordering: .relaxed)
        let failure = SubmitResult.rejected(code: "storage_error", message: "not stored: \(error.message)")
        do throws(RecoveryError) {
            let recovered = try Recovery.recover(journal: journal, catalog: encoder.catalog, config: ledger.config)
            ledger = recovered.ledger
            execIndex = recovered.execIndex
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
        let semaphore = DispatchSemaphore(value: 0)
        let lines = Mutex<[PositionLine]>([])
        read { context in
            let positions = context.ledger.positions
            lines.withLock { $0 = positions }
            semaphore.signal()
        }
        semaphore.wait()
        return lines.withLock { $0 }
    }
}
