import Bytes
import JSON
import Ledger

/// Everything a subscriber is ever sent, as typed values: the wire schema.
///
/// Two functions spell it on the wire, both from these values: `MessageEncoder.write(_:to:)`
/// (the JSON objects of docs/protocol.md, straight to bytes) and `TextRenderer.line(_:)` (the
/// terminal lines). `route` says who may receive a message. Adding a field is one edit in the
/// writer and, if terminals should see it, one in the renderer.
public enum SubscriberMessage: Sendable, Equatable {
    case fill(FillRecord, seq: Int64?)
    case position(PositionLine, seq: Int64?)
    /// `"type":"pnl","scope":"account"`.
    case accountPnL(AccountTotals, seq: Int64?)
    /// `"type":"pnl","scope":"desk"`.
    case deskPnL(DeskTotals, seq: Int64?)
    case mark(MarkRecord, seq: Int64?)
    /// An account's loss-limit state changed (only the limit fields of the totals are sent).
    case limit(AccountTotals, seq: Int64?)
    /// A working order changed (new, replace, cancel, reject, or a fill naming it).
    case order(OrderRecord, seq: Int64?)
    /// The desk's loss-limit state changed (`"type":"limit","scope":"desk"`).
    case deskLimit(DeskTotals, seq: Int64?)
    /// A background monitor changed state (no seq: not a committed event).
    case status(MonitorStatus)
    case heartbeat(seq: Int64, time: Nanos)
    /// Leads a resume: the replay covers (since, seq].
    case resumed(since: Int64, seq: Int64, epoch: String)
    case error(code: String, message: String)
    /// The answer to a client `ping`; `id` is echoed as the client sent it.
    case pong(id: JSONValue?, seq: Int64)

    /// The message one ledger delta causes at `seq`.
    public init(_ delta: LedgerDelta, seq: Int64) {
        switch delta {
        case .fill(let record): self = .fill(record, seq: seq)
        case .position(let line): self = .position(line, seq: seq)
        case .account(let totals): self = .accountPnL(totals, seq: seq)
        case .desk(let totals): self = .deskPnL(totals, seq: seq)
        case .mark(let record): self = .mark(record, seq: seq)
        case .limit(let totals): self = .limit(totals, seq: seq)
        case .order(let record): self = .order(record, seq: seq)
        case .deskLimit(let totals): self = .deskLimit(totals, seq: seq)
        }
    }

    /// Who may receive it: the channel, and the account and instrument a filter checks. Nil
    /// account or instrument: the message is not about one (desk totals, marks, status).
    public struct Route: Sendable, Equatable {
        public var channel: Channel
        public var account: String?
        public var instrument: String?
    }

    public var route: Route {
        switch self {
        case .fill(let record, _): return Route(channel: .fills, account: record.fill.account, instrument: record.fill.instrument)
        case .position(let line, _): return Route(channel: .positions, account: line.account, instrument: line.instrument)
        case .accountPnL(let totals, _): return Route(channel: .pnl, account: totals.account, instrument: nil)
        case .deskPnL: return Route(channel: .pnl, account: nil, instrument: nil)
        case .mark(let record, _): return Route(channel: .marks, account: nil, instrument: record.instrument)
        case .limit(let totals, _): return Route(channel: .risk, account: totals.account, instrument: nil)
        case .order(let record, _): return Route(channel: .orders, account: record.account, instrument: record.instrument)
        case .deskLimit: return Route(channel: .risk, account: nil, instrument: nil)
        case .status: return Route(channel: .status, account: nil, instrument: nil)
        case .heartbeat, .resumed, .error, .pong: return Route(channel: .status, account: nil, instrument: nil)
        }
    }
}
