import Bytes

public enum Side: String, Sendable {
    case buy, sell

    /// +1 for buy, -1 for sell: the sign a fill adds to the position.
    public var sign: Int64 { self == .buy ? 1 : -1 }
}

/// One execution. `execId` is the unique execution id (TT's uniqueExecId): two partials with the
/// same time, side, qty and price are still two fills.
public struct Fill: Sendable, Equatable {
    public var execId: String
    public var account: String
    public var instrument: String
    public var side: Side
    /// Positive contracts.
    public var qty: Int64
    public var price: Price
    public var time: Nanos
    /// Where it came from ("feed", "tt", "replay"…); informational.
    public var source: String
    /// The working order it filled, if the producer named one: its leaves shrink by `qty`.
    public var orderId: String?

    public init(execId: String, account: String, instrument: String, side: Side, qty: Int64, price: Price,
                time: Nanos, source: String = "", orderId: String? = nil) {
        self.execId = execId
        self.account = account
        self.instrument = instrument
        self.side = side
        self.qty = qty
        self.price = price
        self.time = time
        self.source = source
        self.orderId = orderId
    }
}

/// Everything that changes the ledger. Applying the same events in the same order always gives
/// the same state and the same deltas.
public enum LedgerEvent: Sendable, Equatable {
    case fill(Fill)
    /// Cancels an earlier fill (FIX ExecType H): the book is replayed as if it never existed.
    case bust(execId: String, time: Nanos)
    /// Replaces an earlier fill's qty and/or price (FIX ExecType G) and replays the book.
    case correct(execId: String, qty: Int64?, price: Price?, time: Nanos)
    case mark(instrument: String, price: Price, time: Nanos, source: String)
    /// Replaces that book's start-of-day lots with one lot (qty signed, 0 = flat) and replays.
    case sod(account: String, instrument: String, qty: Int64, price: Price, time: Nanos)
    /// End of the trading day: open lots become the next day's SOD lots at the settlement mark
    /// (latest mark, else each lot keeps its entry); realized, bought and sold restart at zero.
    case dayRoll(time: Nanos)
    /// A working order's new, replace, cancel or reject (its fills are `.fill`s naming it).
    case order(OrderEvent)
}
