import Bytes

public enum FillStatus: String, Sendable {
    case live, busted, corrected
}

/// A fill as the ledger holds it now: `fill` carries the current qty/price after corrections.
public struct FillRecord: Sendable, Equatable {
    public var fill: Fill
    public var status: FillStatus
    /// Qty and price as first received, when a correction changed them.
    public var originalQty: Int64?
    public var originalPrice: Price?
    /// Time of the bust or latest correction.
    public var statusTime: Nanos?

    public init(fill: Fill, status: FillStatus = .live, originalQty: Int64? = nil, originalPrice: Price? = nil,
                statusTime: Nanos? = nil) {
        self.fill = fill
        self.status = status
        self.originalQty = originalQty
        self.originalPrice = originalPrice
        self.statusTime = statusTime
    }
}

/// An open lot: signed qty (negative = short) at an entry price.
public struct Lot: Sendable, Equatable, Hashable {
    public var qty: Int64
    public var price: Price

    public init(qty: Int64, price: Price) {
        self.qty = qty
        self.price = price
    }
}

/// Which price valued the unrealized P&L (the mark waterfall).
public enum MarkSource: String, Sendable {
    case mark, lastFill, sod, none
}

public enum LimitState: String, Sendable {
    /// Under 80 % of the loss limit used (or no limit).
    case ok
    /// At least 80 % used.
    case warning
    /// Loss at or beyond the limit.
    case breached
}

/// One account × instrument line of the desk view.
public struct PositionLine: Sendable, Equatable {
    public var account: String
    public var instrument: String
    public var sodQty: Int64
    /// Weighted average of the SOD lots (nil when flat at SOD).
    public var sodPrice: Price?
    public var bought: Int64
    public var sold: Int64
    public var net: Int64
    /// Weighted average entry of the open lots, rounded half away from zero to 1e-8 point.
    public var avgPrice: Price?
    public var mark: Price?
    public var markSource: MarkSource
    public var realized: Money
    public var unrealized: Money
    public var total: Money
    /// net × contract DV01, signed (zero when the instrument has none).
    public var dv01: Money
    public var lastFillTime: Nanos?

    public init(account: String, instrument: String, sodQty: Int64 = 0, sodPrice: Price? = nil, bought: Int64 = 0,
                sold: Int64 = 0, net: Int64 = 0, avgPrice: Price? = nil, mark: Price? = nil, markSource: MarkSource = .none,
                realized: Money = .zero, unrealized: Money = .zero, total: Money = .zero, dv01: Money = .zero,
                lastFillTime: Nanos? = nil) {
        self.account = account
        self.instrument = instrument
        self.sodQty = sodQty
        self.sodPrice = sodPrice
        self.bought = bought
        self.sold = sold
        self.net = net
        self.avgPrice = avgPrice
        self.mark = mark
        self.markSource = markSource
        self.realized = realized
        self.unrealized = unrealized
        self.total = total
        self.dv01 = dv01
        self.lastFillTime = lastFillTime
    }
}

public struct AccountTotals: Sendable, Equatable {
    public var account: String
    public var realized: Money
    public var unrealized: Money
    public var total: Money
    /// Σ net over instruments (signed).
    public var netContracts: Int64
    /// Σ |net| over instruments.
    public var grossContracts: Int64
    public var dv01: Money
    public var lossLimit: Money?
    /// The loss counted against the limit: −total when losing, else 0.
    public var limitUsed: Money
    public var limitState: LimitState
    /// Gross contracts allowed (nil: none) and where `grossContracts` stands against it.
    public var positionLimit: Int64?
    public var positionState: LimitState

    public init(account: String, realized: Money = .zero, unrealized: Money = .zero, total: Money = .zero,
                netContracts: Int64 = 0, grossContracts: Int64 = 0, dv01: Money = .zero, lossLimit: Money? = nil,
                limitUsed: Money = .zero, limitState: LimitState = .ok, positionLimit: Int64? = nil,
                positionState: LimitState = .ok) {
        self.account = account
        self.realized = realized
        self.unrealized = unrealized
        self.total = total
        self.netContracts = netContracts
        self.grossContracts = grossContracts
        self.dv01 = dv01
        self.lossLimit = lossLimit
        self.limitUsed = limitUsed
        self.limitState = limitState
        self.positionLimit = positionLimit
        self.positionState = positionState
    }

    /// Percent of the loss limit used, in basis points (10000 = 100 %); nil without a limit.
    public var limitUsedBasisPoints: Int64? {
        guard let lossLimit, lossLimit.units > 0 else { return nil }
        let (product, overflow) = limitUsed.units.multipliedReportingOverflow(by: 10_000)
        return overflow ? Int64.max : product / lossLimit.units
    }
}

public struct DeskTotals: Sendable, Equatable {
    public var realized: Money
    public var unrealized: Money
    public var total: Money
    public var grossContracts: Int64
    public var dv01: Money
    /// The desk's loss limit (nil: none), the loss counted against it and its state.
    public var lossLimit: Money?
    public var limitUsed: Money
    public var limitState: LimitState

    public init(realized: Money = .zero, unrealized: Money = .zero, total: Money = .zero, grossContracts: Int64 = 0,
                dv01: Money = .zero, lossLimit: Money? = nil, limitUsed: Money = .zero, limitState: LimitState = .ok) {
        self.realized = realized
        self.unrealized = unrealized
        self.total = total
        self.grossContracts = grossContracts
        self.dv01 = dv01
        self.lossLimit = lossLimit
        self.limitUsed = limitUsed
        self.limitState = limitState
    }
}

public struct MarkRecord: Sendable, Equatable {
    public var instrument: String
    public var price: Price
    public var time: Nanos
    public var source: String

    public init(instrument: String, price: Price, time: Nanos, source: String) {
        self.instrument = instrument
        self.price = price
        self.time = time
        self.source = source
    }
}

/// What one event changed, in this order: fill (then the order it named) or mark or order, positions (sorted by account, instrument),
/// accounts (sorted), desk, then limit changes (sorted). Nothing unchanged is emitted.
public enum LedgerDelta: Sendable, Equatable {
    case fill(FillRecord)
    case position(PositionLine)
    case account(AccountTotals)
    case desk(DeskTotals)
    case mark(MarkRecord)
    /// Only when an account's `limitState` or `positionState` changed.
    case limit(AccountTotals)
    /// Only when the desk's loss `limitState` changed.
    case deskLimit(DeskTotals)
    /// An order changed: by an order event, or by a fill naming it (right after that fill).
    case order(OrderRecord)
}
