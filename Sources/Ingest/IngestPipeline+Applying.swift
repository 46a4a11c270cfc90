import Bytes
import Journal
import Ledger
import Wire

/// Applying a request's items to the ledger: the all-or-nothing check of `POST /api/fills`, the
/// one-by-one apply of `/feed` and the sources, account scope, and the journal row and messages
/// each applied event adds to the batch. Pipeline thread only.
extension IngestPipeline {
    /// Checks a whole request against the ledger without changing anything (`Ledger.check(batch:)`
    /// sees the effect of earlier items of the batch). Nil when every item would be accepted;
    /// else the rejection of each failing item (nil for the ones that would pass).
    func validateAtomically(_ items: [Item], source: String, batch: Batch) -> [SubmitResult?]? {
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
                    // The ledger holds the committed fills and those applied earlier in this batch.
                    if ledger.arrival(ofExecId: execId) != nil || !seen.insert(execId).inserted { continue }
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
    func apply(_ items: [Item], source: String, firstSeq: Int64, ledger: inout Ledger,
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
                if case .fill(let execId, _, _, _, _, _, _, _) = message, let seq = seq(ofExecId: execId, in: ledger) {
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
                    case .fill:
                        // The fill is the ledger's newest arrival. A failed commit rolls both back
                        // together: the ledger and these seqs are rebuilt from the journal.
                        seqByArrival.append(seq)
                        assert(seqByArrival.count == ledger.fillCount)
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

    /// The seq of the event that applied fill `execId` — committed, or earlier in the batch being
    /// built (the ledger holds both) — or nil. `ledger` is the pipeline's own, passed in by the
    /// code that is changing it.
    func seq(ofExecId execId: String, in ledger: Ledger) -> Int64? {
        ledger.arrival(ofExecId: execId).map { seqByArrival[Int($0)] }
    }

    /// The idempotency key an order message names without looking at the ledger: its explicit
    /// version, or version 1 for a `new` (a resent new). Nil for other messages, and for a
    /// replace, cancel or reject without a version (it means "the next version").
    func orderKey(_ message: ProducerMessage) -> OrderVersion? {
        guard case .order(let order) = message else { return nil }
        if let version = order.version { return OrderVersion(orderId: order.orderId, version: version) }
        return order.action == .new ? OrderVersion(orderId: order.orderId, version: 1) : nil
    }

    /// A scoped producer's bust or correction must name a fill of one of its accounts, and its
    /// order messages an order of one of them (a new order names its account; the others are
    /// checked against the order the ledger holds). A fill or order that does not exist is left
    /// to the translation and the ledger (`unknown_fill`, `unknown_order`).
    func checkScope(_ message: ProducerMessage, accounts: Set<String>, ledger: Ledger) throws(Rejection) {
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

    /// Encodes an applied event's deltas once and adds its journal row and published messages.
    func record(_ event: LedgerEvent, deltas: [LedgerDelta], seq: Int64, source: String, ledger: Ledger,
                        into batch: inout Batch) {
        // An event that changed nothing (a repeated SOD, a roll with no positions) still used a
        // seq: the desk totals carry it, so an unfiltered client can tell that seqs are gapless.
        let published = deltas.isEmpty ? [.desk(ledger.desk)] : deltas
        let messages = encoder.messages(for: published, seq: seq)
        // The journal keeps the deltas themselves, compactly: a resume writes its messages from
        // them again with the same encoder, so it gets the bytes subscribers got live at a
        // fraction of the JSON's size (and of the commit's WAL pages).
        let stored = StoredDeltas.binary(DeltaCoding.encode(published))
        var fillSeq: Int64?
        switch event {
        case .bust(let execId, _), .correct(let execId, _, _, _): fillSeq = self.seq(ofExecId: execId, in: ledger)
        default: break
        }
        batch.events.append(translation.journalEvent(for: event, ledgerAfter: ledger, deltas: stored, source: source, fillSeq: fillSeq))
        batch.committed.append(CommittedEvent(seq: seq, messages: messages))
    }
}
