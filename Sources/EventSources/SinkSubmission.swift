import Dispatch
import Synchronization
import Wire

/// Monitors submit in order and wait for the commit before sending more: that bounds memory
/// (the sink is never flooded) and keeps each stored cursor in step with what was acked.
struct SinkTimeout: Error, CustomStringConvertible {
    var source: String
    var description: String { "\(source): the server did not answer a submission in time" }
}

func submitAndWait(_ messages: [ProducerMessage], to sink: any MessageSink, source: String,
                   cursor: (name: String, value: String)?, timeoutSeconds: Int) throws(SinkTimeout) -> [SubmitResult] {
    let answered = DispatchSemaphore(value: 0)
    let results = Mutex<[SubmitResult]>([])
    sink.submit(messages, source: source, cursor: cursor) { answer in
        results.withLock { $0 = answer }
        answered.signal()
    }
    guard answered.wait(timeout: .now() + .seconds(timeoutSeconds)) == .success else { throw SinkTimeout(source: source) }
    return results.withLock { $0 }
}

extension Array where Element == SubmitResult {
    /// The message of the first `storage_error`, if the server could not store the submission.
    var storageFailure: String? {
        for result in self {
            if case .rejected("storage_error", let message) = result { return message }
        }
        return nil
    }
}

/// Running totals of what a monitor's submissions came back as.
public struct SubmissionCounts: Sendable, Equatable {
    public var acked = 0
    public var duplicates = 0
    public var rejected = 0
    public var lastRejection: String?
    public init() {}

    mutating func add(_ results: [SubmitResult], refs: [String]) {
        for (index, result) in results.enumerated() {
            switch result {
            case .ack: acked += 1
            case .duplicate: duplicates += 1
            case .rejected(let code, let message):
                rejected += 1
                lastRejection = "\(index < refs.count ? refs[index] : "?"): \(code): \(message)"
            }
        }
    }
}
