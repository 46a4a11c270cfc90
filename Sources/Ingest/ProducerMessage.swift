import Foundation

/// One message from a producer (`/feed`, `POST /api/fills`) or a background monitor, before
/// validation against the instrument catalog. Prices stay text until the ledger parses them
/// with the instrument's rules, so "110-08+" and "110'085" are judged by the same code.
public enum ProducerMessage: Sendable, Equatable {
    case fill(execId: String, account: String, instrument: String, side: String, qty: Int64, price: String, time: String?)
    case bust(execId: String)
    case correct(execId: String, qty: Int64?, price: String?)
    case mark(instrument: String, price: String, time: String?)
    case sod(account: String, instrument: String, qty: Int64, price: String)

    /// What a reply names: the execId, or the instrument for a mark, or the account/instrument for SOD.
    public var ref: String {
        switch self {
        case .fill(let execId, _, _, _, _, _, _), .bust(let execId), .correct(let execId, _, _): return execId
        case .mark(let instrument, _, _): return instrument
        case .sod(let account, let instrument, _, _): return "\(account)/\(instrument)"
        }
    }
}

/// The answer to one producer message, given only after the commit.
public enum SubmitResult: Sendable, Equatable {
    case ack(seq: Int64)
    case duplicate(seq: Int64)
    case rejected(code: String, message: String)
}

/// Where sources hand their messages. Implemented by the ingest pipeline; monitors and tests use it.
public protocol MessageSink: Sendable {
    /// Validates, applies, commits, publishes; then calls `completion` with one result per message,
    /// in order, on an unspecified thread. `cursor` (name, value) is stored in the same transaction
    /// as the messages, so a poller's position never runs ahead of or behind what it ingested.
    func submit(_ messages: [ProducerMessage], source: String, cursor: (name: String, value: String)?,
                completion: @escaping @Sendable ([SubmitResult]) -> Void)
    /// The last stored value of a source cursor.
    func cursor(named name: String) -> String?
}

/// Health of one background monitor, shown in `/healthz`, `/metrics` and `status` messages.
public struct MonitorStatus: Sendable, Equatable {
    public enum State: String, Sendable { case starting, running, degraded, stopped }
    public var name: String
    public var state: State
    public var lastError: String?
    /// Nanoseconds since the Unix epoch of the last successful poll or message.
    public var lastSuccess: Int64?
    public init(name: String, state: State, lastError: String? = nil, lastSuccess: Int64? = nil) {
        self.name = name; self.state = state; self.lastError = lastError; self.lastSuccess = lastSuccess
    }
}

public protocol MonitorStatusSink: Sendable {
    func report(_ status: MonitorStatus)
}
