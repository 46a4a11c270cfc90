import Ledger

/// One message from a producer (`/feed`, `POST /api/fills`) or a background monitor, before
/// validation against the instrument catalog. Prices stay text until the ledger parses them
/// with the instrument's rules, so "110-08+" and "110'085" are judged by the same code.
public enum ProducerMessage: Sendable, Equatable {
    /// `orderId`: the working order it filled, whose leaves quantity it reduces.
    case fill(execId: String, account: String, instrument: String, side: String, qty: Int64, price: String, time: String?,
              orderId: String? = nil)
    case bust(execId: String)
    case correct(execId: String, qty: Int64?, price: String?)
    case mark(instrument: String, price: String, time: String?)
    case sod(account: String, instrument: String, qty: Int64, price: String)
    /// A working order's new, replace, cancel or reject.
    case order(OrderMessage)

    /// What a reply names: the execId, or the instrument for a mark, or the account/instrument for SOD.
    public var ref: String {
        switch self {
        case .fill(let execId, _, _, _, _, _, _, _), .bust(let execId), .correct(let execId, _, _): return execId
        case .order(let order): return order.orderId
        case .mark(let instrument, _, _): return instrument
        case .sod(let account, let instrument, _, _): return "\(account)/\(instrument)"
        }
    }
}

/// An order message as a producer sent it (`"type":"order"`), prices still text.
public struct OrderMessage: Sendable, Equatable {
    public var action: OrderEvent.Action
    public var orderId: String
    /// Optional: the idempotency key with `orderId`; without it a `new` is version 1 and every
    /// other action the order's current version + 1.
    public var version: Int64?
    public var account: String?
    public var instrument: String?
    /// "buy" or "sell".
    public var side: String?
    public var qty: Int64?
    public var price: String?
    public var time: String?

    public init(action: OrderEvent.Action, orderId: String, version: Int64? = nil, account: String? = nil,
                instrument: String? = nil, side: String? = nil, qty: Int64? = nil, price: String? = nil, time: String? = nil) {
        self.action = action
        self.orderId = orderId
        self.version = version
        self.account = account
        self.instrument = instrument
        self.side = side
        self.qty = qty
        self.price = price
        self.time = time
    }
}
