/// What the single writer needs of its store: sequenced appends in one transaction and the reads
/// that recovery and resumes use.
///
/// `Journal` (SQLite) is the store the server runs on. The protocol exists so that the ingest
/// pipeline's failure paths can be tested: a test wraps a real journal and makes chosen commits
/// fail, the way SQLite's own tests inject I/O faults.
public protocol EventStore: AnyObject {
    /// A random id created with the database; a different epoch means a different database.
    var epoch: String { get }
    /// The seq of the last committed event (0 for an empty store).
    var lastSeq: Seq { get }

    /// Commits events (seqs lastSeq+1, …), audit entries, cursors and the given pieces of a ledger
    /// checkpoint in ONE transaction, or nothing at all: on error `lastSeq` is unchanged. The
    /// transaction also removes one piece of a superseded checkpoint when any is left.
    @discardableResult
    func append(_ events: [NewEvent], audit: [AuditEntry], cursors: [SourceCursor],
                checkpointPieces: [CheckpointPiece]) throws(JournalError) -> [Seq]
    /// Pieces of superseded (or never completed) checkpoints are left to remove: the writer should
    /// commit now and then even without events, so that they go, a piece per commit.
    var checkpointCleanupPending: Bool { get }
    /// Events after `seq` in seq order, at most `limit`.
    func events(after seq: Seq, limit: Int) throws(JournalError) -> [EventRecord]
    /// The newest ledger checkpoint, if any.
    func latestCheckpoint() throws(JournalError) -> Checkpoint?
    /// The seq of every stored fill event, ascending (the k-th stored the ledger's k-th fill).
    func allFillSeqs() throws(JournalError) -> [Seq]
    /// The execId of the fill event stored at `seq` (nil: no fill event there).
    func execId(ofFillAt seq: Seq) throws(JournalError) -> String?
    /// Every stored (orderId, version) with the seq of the order event that stored it.
    func allOrderVersions() throws(JournalError) -> [OrderVersion: Seq]
    /// The last stored value of a source cursor.
    func cursor(_ name: String) throws(JournalError) -> String?
    /// Stored fills, newest last (`GET /api/fills`).
    func fills(account: String?, instrument: String?, since: Seq?, limit: Int) throws(JournalError) -> [FillRow]
}
