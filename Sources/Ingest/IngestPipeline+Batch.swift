import Journal
import Wire

extension IngestPipeline {
    /// Everything one transaction will hold, and what to do once it is durable.
    struct Batch {
        var events: [NewEvent] = []
        var committed: [CommittedEvent] = []
        var audit: [AuditEntry] = []
        var cursors: [SourceCursor] = []
        var replies: [(results: [SubmitResult], completion: @Sendable ([SubmitResult]) -> Void)] = []
        var newOrderVersions: [OrderVersion: Int64] = [:]
        /// Usually one piece of the checkpoint being stored (all the rest on a clean stop).
        var checkpointPieces: [CheckpointPiece] = []
        /// Commit even with nothing else to store, so that superseded checkpoint pieces go
        /// (one per commit) while the writer is idle.
        var cleansCheckpoints = false
        var isEmpty: Bool {
            events.isEmpty && audit.isEmpty && cursors.isEmpty && replies.isEmpty && checkpointPieces.isEmpty && !cleansCheckpoints
        }
        /// Something to write (else only replies to send).
        var needsTransaction: Bool {
            !events.isEmpty || !audit.isEmpty || !cursors.isEmpty || !checkpointPieces.isEmpty || cleansCheckpoints
        }
    }
}
