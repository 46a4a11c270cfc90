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
        var newExecIds: [String: Int64] = [:]
        var newOrderVersions: [OrderVersion: Int64] = [:]
        var checkpoint: (seq: Seq, state: [UInt8])?
        var isEmpty: Bool { events.isEmpty && audit.isEmpty && cursors.isEmpty && replies.isEmpty && checkpoint == nil }
    }
}
