@testable import EventSources
import Synchronization
import Wire

/// An in-memory MessageSink: acks each message with the next seq, answers a fill whose execId
/// it has already seen `duplicate`, stores cursors, and records every submission.
final class RecordingSink: MessageSink {
    struct Submission: Sendable {
        var messages: [ProducerMessage]
        var source: String
        var cursor: String?
    }

    private struct State {
        var seq: Int64 = 0
        var seqByExecId: [String: Int64] = [:]
        var cursors: [String: String] = [:]
        var submissions: [Submission] = []
        var results: [SubmitResult] = []
        /// The next this many submissions fail to commit: every item `storage_error`, nothing
        /// stored (cursor included), as the ingest pipeline answers a failed commit.
        var failingCommits = 0
        var failedSubmissions = 0
    }

    private let state = Mutex(State())
    /// Messages for which this returns a reason are rejected (to test rejection reporting).
    let reject: @Sendable (ProducerMessage) -> String?
    /// Called after each submission is recorded, with the number of submissions so far.
    let onSubmit: @Sendable (Int) -> Void

    init(cursors: [String: String] = [:], reject: @escaping @Sendable (ProducerMessage) -> String? = { _ in nil },
         onSubmit: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.reject = reject
        self.onSubmit = onSubmit
        state.withLock { $0.cursors = cursors }
    }

    func submit(_ messages: [ProducerMessage], source: String, cursor: (name: String, value: String)?,
                completion: @escaping @Sendable ([SubmitResult]) -> Void) {
        let (results, count) = state.withLock { state -> ([SubmitResult], Int) in
            if state.failingCommits > 0 {
                state.failingCommits -= 1
                state.failedSubmissions += 1
                return (messages.map { _ in .rejected(code: "storage_error", message: "not stored: disk full") }, state.submissions.count)
            }
            let results = messages.map { message -> SubmitResult in
                if let reason = reject(message) { return .rejected(code: "rejected", message: reason) }
                if case .fill(let execId, _, _, _, _, _, _, _) = message {
                    if let seq = state.seqByExecId[execId] { return .duplicate(seq: seq) }
                    state.seq += 1
                    state.seqByExecId[execId] = state.seq
                    return .ack(seq: state.seq)
                }
                state.seq += 1
                return .ack(seq: state.seq)
            }
            if let cursor { state.cursors[cursor.name] = cursor.value }
            state.submissions.append(Submission(messages: messages, source: source, cursor: cursor?.value))
            state.results += results
            return (results, state.submissions.count)
        }
        completion(results)
        onSubmit(count)
    }

    func cursor(named name: String) -> String? { state.withLock { $0.cursors[name] } }

    /// Makes the next `count` submissions fail as a failed commit does.
    func failNextCommits(_ count: Int) { state.withLock { $0.failingCommits = count } }
    var failedSubmissions: Int { state.withLock { $0.failedSubmissions } }

    var submissions: [Submission] { state.withLock { $0.submissions } }
    var messages: [ProducerMessage] { submissions.flatMap(\.messages) }
    var results: [SubmitResult] { state.withLock { $0.results } }
    var fills: [ProducerMessage] { messages.filter { if case .fill = $0 { return true }; return false } }
    var ackedFillIds: [String] {
        state.withLock { state in
            zip(state.submissions.flatMap(\.messages), state.results).compactMap { message, result in
                if case .fill(let execId, _, _, _, _, _, _, _) = message, case .ack = result { return execId }
                return nil
            }
        }
    }
    var duplicateCount: Int {
        results.filter { if case .duplicate = $0 { return true }; return false }.count
    }
}

/// Keeps every status report, in order.
final class StatusLog: MonitorStatusSink {
    private let reports = Mutex<[MonitorStatus]>([])
    func report(_ status: MonitorStatus) { reports.withLock { $0.append(status) } }
    var all: [MonitorStatus] { reports.withLock { $0 } }
    func states(of name: String) -> [MonitorStatus.State] { all.filter { $0.name == name }.map(\.state) }
}
