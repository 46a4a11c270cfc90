import Journal
import Synchronization

/// A real journal with faults on demand, the way SQLite's tests inject I/O errors: the next
/// `failAppends` commits fail (nothing stored), and while `failReads` is set every read fails
/// too, so the pipeline's ledger rebuild after a failed commit fails as well. `editFillSeqs`
/// makes the fill seq list disagree with the events, as a damaged journal would.
final class FailingStore: EventStore, @unchecked Sendable {
    // Safety: `journal` is used only on the pipeline thread (and by the test once the pipeline
    // is idle, between answers); the knobs are behind a mutex.
    let journal: Journal
    private let knobs = Mutex<(failAppends: Int, failReads: Bool, appendsFailed: Int)>((0, false, 0))
    /// The checkpoint pieces each append was given (failed ones too), in order.
    let piecesPerAppend = Mutex<[[CheckpointPiece]]>([])

    init(_ journal: Journal) { self.journal = journal }

    private let fillSeqsEdit = Mutex<(@Sendable ([Seq]) -> [Seq])?>(nil)

    func failNextAppends(_ count: Int) { knobs.withLock { $0.failAppends = count } }
    /// `allFillSeqs()` returns what `edit` makes of the stored list (nil: the list as stored).
    func editFillSeqs(_ edit: (@Sendable ([Seq]) -> [Seq])?) { fillSeqsEdit.withLock { $0 = edit } }
    func setFailReads(_ fail: Bool) { knobs.withLock { $0.failReads = fail } }
    var appendsFailed: Int { knobs.withLock { $0.appendsFailed } }

    var epoch: String { journal.epoch }
    var lastSeq: Seq { journal.lastSeq }

    var checkpointCleanupPending: Bool { journal.checkpointCleanupPending }

    func append(_ events: [NewEvent], audit: [AuditEntry], cursors: [SourceCursor],
                checkpointPieces: [CheckpointPiece]) throws(JournalError) -> [Seq] {
        piecesPerAppend.withLock { $0.append(checkpointPieces) }
        let fail = knobs.withLock { state -> Bool in
            guard state.failAppends > 0 else { return false }
            state.failAppends -= 1
            state.appendsFailed += 1
            return true
        }
        if fail { throw JournalError(code: "io", message: "injected: disk I/O error") }
        return try journal.append(events, audit: audit, cursors: cursors, checkpointPieces: checkpointPieces)
    }

    private func checkReads() throws(JournalError) {
        if knobs.withLock({ $0.failReads }) { throw JournalError(code: "io", message: "injected: read error") }
    }

    func events(after seq: Seq, limit: Int) throws(JournalError) -> [EventRecord] {
        try checkReads()
        return try journal.events(after: seq, limit: limit)
    }

    func latestCheckpoint() throws(JournalError) -> Checkpoint? {
        try checkReads()
        return try journal.latestCheckpoint()
    }

    func execId(ofFillAt seq: Seq) throws(JournalError) -> String? {
        try checkReads()
        return try journal.execId(ofFillAt: seq)
    }

    func allFillSeqs() throws(JournalError) -> [Seq] {
        try checkReads()
        let seqs = try journal.allFillSeqs()
        return fillSeqsEdit.withLock { $0 }?(seqs) ?? seqs
    }

    func allOrderVersions() throws(JournalError) -> [OrderVersion: Seq] {
        try checkReads()
        return try journal.allOrderVersions()
    }

    func cursor(_ name: String) throws(JournalError) -> String? {
        try checkReads()
        return try journal.cursor(name)
    }

    func fills(account: String?, instrument: String?, since: Seq?, limit: Int) throws(JournalError) -> [FillRow] {
        try checkReads()
        return try journal.fills(account: account, instrument: instrument, since: since, limit: limit)
    }
}
