/// The answer to one producer message, given only after the commit.
public enum SubmitResult: Sendable, Equatable {
    case ack(seq: Int64)
    case duplicate(seq: Int64)
    case rejected(code: String, message: String)
}
