import Bytes

/// Where an order stands. Only `working` orders rest on the ladder; the other three are final.
public enum OrderStatus: String, Sendable {
    case working, filled, cancelled, rejected
}

/// One step of an order's life, as a producer or the TT orders monitor reports it.
///
/// `version` is the idempotency key with `orderId`: each step of one order has a larger version
/// than the step before (a new order is usually version 1). The ingest pipeline answers a resent
/// (orderId, version) as a duplicate before the ledger sees it; the ledger refuses a version that
/// is not newer than the order's (`order_version_stale`).
public struct OrderEvent: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        /// A new working order: account, instrument, side, qty and price are required.
        case new
        /// New total quantity and/or price of a working order (FIX OrderQty: the leaves become
        /// qty − filled, which must stay positive).
        case replace
        /// The order left the market unfilled (the rest of it, after partial fills).
        case cancel
        /// The exchange or TT refused the order (or the rest of it).
        case reject
    }

    public var action: Action
    public var orderId: String
    public var version: Int64
    public var account: String?
    public var instrument: String?
    public var side: Side?
    public var qty: Int64?
    public var price: Price?
    public var time: Nanos
    public var source: String

    public init(action: Action, orderId: String, version: Int64, account: String? = nil, instrument: String? = nil,
                side: Side? = nil, qty: Int64? = nil, price: Price? = nil, time: Nanos, source: String = "") {
        self.action = action
        self.orderId = orderId
        self.version = version
        self.account = account
        self.instrument = instrument
        self.side = side
        self.qty = qty
        self.price = price
        self.time = time
        self.source = source
    }
}

/// An order as the ledger holds it now.
public struct OrderRecord: Sendable, Equatable {
    public var orderId: String
    public var account: String
    public var instrument: String
    public var side: Side
    public var price: Price
    /// The order's total quantity (after the latest replace).
    public var qty: Int64
    /// What still rests in the market: qty − filled while working, 0 once final.
    public var leavesQty: Int64
    /// Σ qty of the fills that named this order.
    public var filledQty: Int64
    public var status: OrderStatus
    /// The version of the latest order event applied (fills do not change it).
    public var version: Int64
    /// Time of the latest change (order event or fill).
    public var time: Nanos
    public var source: String

    public init(orderId: String, account: String, instrument: String, side: Side, price: Price, qty: Int64,
                leavesQty: Int64, filledQty: Int64 = 0, status: OrderStatus = .working, version: Int64 = 1,
                time: Nanos = 0, source: String = "") {
        self.orderId = orderId
        self.account = account
        self.instrument = instrument
        self.side = side
        self.price = price
        self.qty = qty
        self.leavesQty = leavesQty
        self.filledQty = filledQty
        self.status = status
        self.version = version
        self.time = time
        self.source = source
    }
}

extension Ledger {
    // MARK: Reading

    public func order(_ orderId: String) -> OrderRecord? { orders[orderId] }

    /// The orders still working, sorted by (account, instrument, orderId).
    public var workingOrders: [OrderRecord] {
        orders.values.filter { $0.status == .working }
            .sorted { ($0.account, $0.instrument, $0.orderId) < ($1.account, $1.instrument, $1.orderId) }
    }

    // MARK: Validation (shared by apply and the batch check)

    /// The order after `event`, computed from `current` (the order as it stands, nil if unknown)
    /// without changing anything. `unclaimed`: the quantity of fills that named this order before
    /// it was known (a new order starts with them filled).
    func orderAfter(_ event: OrderEvent, current: OrderRecord?, unclaimed: Int64 = 0,
                    mark: (Int) -> Price?) throws(LedgerError) -> OrderRecord {
        guard !event.orderId.isEmpty else { throw .missingField("orderId") }
        guard event.version > 0 else { throw .invalidVersion(event.orderId, event.version) }
        if event.action == .new {
            if let current {
                // A new order's version must still be newer, so an old resend never passes as a new order.
                guard event.version > current.version else { throw .staleOrderVersion(event.orderId, event.version, current: current.version) }
                throw .orderExists(event.orderId)
            }
            guard let account = event.account, !account.isEmpty else { throw .missingField("account") }
            guard let symbol = event.instrument else { throw .missingField("instrument") }
            let index = try instrumentIndex(symbol)
            guard let side = event.side else { throw .missingField("side") }
            guard let qty = event.qty else { throw .missingField("qty") }
            guard qty > 0 else { throw .invalidQuantity(qty) }
            guard let price = event.price else { throw .missingField("price") }
            try checkPrice(price, instrument: index, mark: mark(index))
            // Fills that named it before it arrived (another source was faster) already filled part.
            let leaves = max(0, qty - unclaimed)
            return OrderRecord(orderId: event.orderId, account: account, instrument: symbol, side: side, price: price,
                               qty: qty, leavesQty: leaves, filledQty: unclaimed, status: leaves == 0 ? .filled : .working,
                               version: event.version, time: event.time, source: event.source)
        }
        guard var order = current else { throw .unknownOrder(event.orderId) }
        guard event.version > order.version else { throw .staleOrderVersion(event.orderId, event.version, current: order.version) }
        guard order.status == .working else { throw .orderNotWorking(event.orderId, order.status.rawValue) }
        switch event.action {
        case .new:
            break
        case .replace:
            guard event.qty != nil || event.price != nil else { throw .emptyReplace(event.orderId) }
            if let qty = event.qty {
                // The new total must leave something working beyond what already filled.
                guard qty > order.filledQty else { throw .invalidQuantity(qty) }
                order.qty = qty
                order.leavesQty = qty - order.filledQty
            }
            if let price = event.price {
                let index = try instrumentIndex(order.instrument)
                try checkPrice(price, instrument: index, mark: mark(index))
                order.price = price
            }
        case .cancel:
            order.status = .cancelled
            order.leavesQty = 0
        case .reject:
            order.status = .rejected
            order.leavesQty = 0
        }
        order.version = event.version
        order.time = event.time
        order.source = event.source
        return order
    }

    /// The order a fill names, after the fill: nil when the fill names none or one the ledger
    /// does not know (fills are the truth; orders may come from elsewhere or have rolled off).
    /// A fill for another account, instrument or side than its order is refused.
    func orderAfterFill(_ fill: Fill, current: OrderRecord?) throws(LedgerError) -> OrderRecord? {
        guard let orderId = fill.orderId, var order = current else { return nil }
        if order.account != fill.account { throw .orderMismatch(orderId, field: "account") }
        if order.instrument != fill.instrument { throw .orderMismatch(orderId, field: "instrument") }
        if order.side != fill.side { throw .orderMismatch(orderId, field: "side") }
        let (filled, overflow) = order.filledQty.addingReportingOverflow(fill.qty)
        guard !overflow else { throw .overflow }
        order.filledQty = filled
        if order.status == .working {
            // An overfill cannot leave a negative rest: the order is simply done.
            order.leavesQty = max(0, order.leavesQty - fill.qty)
            if order.leavesQty == 0 { order.status = .filled }
        }
        order.time = max(order.time, fill.time)
        return order
    }

    // MARK: Applying

    mutating func applyOrder(_ event: OrderEvent) throws(LedgerError) -> [LedgerDelta] {
        let order = try orderAfter(event, current: orders[event.orderId], unclaimed: unclaimedOrderFills[event.orderId] ?? 0) {
            markPrice[$0]
        }
        orders[event.orderId] = order
        unclaimedOrderFills[event.orderId] = nil
        return [.order(order)]
    }

    /// The unclaimed quantity after a fill that names an order the ledger does not hold, or nil
    /// when the fill names none or a known order.
    func unclaimedAfter(_ fill: Fill, known: Bool, current: Int64?) throws(LedgerError) -> Int64? {
        guard fill.orderId != nil, !known else { return nil }
        let (sum, overflow) = (current ?? 0).addingReportingOverflow(fill.qty)
        guard !overflow else { throw .overflow }
        return sum
    }

    /// Day roll: final orders are dropped (their versions stay in the journal's idempotency
    /// index) and so are fills that named orders that never came; working ones carry over until
    /// an event ends them.
    mutating func rollOrders() {
        orders = orders.filter { $0.value.status == .working }
        unclaimedOrderFills = [:]
    }
}
