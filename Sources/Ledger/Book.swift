import Bytes

/// The numbers a fill changes in one account × instrument book. All exact integers:
/// `openCost` is Σ entry price units × signed qty of the open position, `realizedUnits` is
/// realized P&L in price units × contracts (× dollarsPerPoint = Money units).
struct BookTotals: Equatable, Sendable {
    var openQty: Int64 = 0
    var openCost: Int64 = 0
    var realizedUnits: Int64 = 0
    var bought: Int64 = 0
    var sold: Int64 = 0
    var lastFillTime: Nanos?
}

/// What a fill will do to a book, computed without touching it so an overflow leaves nothing
/// half-applied; `commit` then cannot fail.
struct FillPlan {
    var totals: BookTotals
    /// Whole lots closed at the matching end (the newest for LIFO, the oldest for FIFO).
    var closedLots = 0
    /// New signed qty of the next lot at the matching end when it was only partly closed.
    var partialQty: Int64?
    /// The remainder opened at the fill price (adding to a position, or the far side of a flip).
    var opened: Lot?
}

/// What a book's lots and totals need of a fill (replays read these, not whole `Fill`s).
struct BookFill {
    var side: Side
    var qty: Int64
    var price: Price
    var time: Nanos

    init(side: Side, qty: Int64, price: Price, time: Nanos) {
        self.side = side
        self.qty = qty
        self.price = price
        self.time = time
    }

    init(_ fill: Fill) {
        self.init(side: fill.side, qty: fill.qty, price: fill.price, time: fill.time)
    }
}

/// One account × instrument: its SOD lots, today's fills and the open lots they leave.
struct Book: Sendable {
    let account: String
    let instrument: String
    let accountId: Int32
    let instrumentIndex: Int32
    let method: CostMethod
    var sodLots: [Lot] = []
    /// Today's live fills (ledger arrival indices) in (time, arrival) order.
    var fills: [Int32] = []
    /// Open lots, oldest first. LIFO pops the end; FIFO advances `head` (a deque without moves).
    /// Unused by average cost, which keeps only `totals.openQty` and `totals.openCost`.
    var lots: [Lot] = []
    var head = 0
    var totals = BookTotals()
    /// Time of the last entry of `fills`, for the in-order fast path.
    var lastListedTime: Nanos?
    /// Σ qty of the SOD lots and their average price (rounded half away from zero), kept with
    /// the lots so a position line does not re-add them per fill.
    var sodQty: Int64 = 0
    var sodPrice: Price?

    init(account: String, instrument: String, accountId: Int32, instrumentIndex: Int32, method: CostMethod) {
        self.account = account
        self.instrument = instrument
        self.accountId = accountId
        self.instrumentIndex = instrumentIndex
        self.method = method
    }

    var openLots: [Lot] {
        switch method {
        case .lifo, .fifo: return Array(lots[head...])
        case .average:
            guard totals.openQty != 0 else { return [] }
            return [Lot(qty: totals.openQty, price: Price(units: roundedDivide(totals.openCost, totals.openQty)))]
        }
    }

    func plan(side: Side, qty: Int64, price: Price, time: Nanos) throws(LedgerError) -> FillPlan {
        try Book.plan(method: method, lots: lots, head: head, totals: totals, side: side, qty: qty, price: price, time: time)
    }

    /// Static and fed the parts it reads, so `books[id]` can be planned in place: calling a
    /// method on the array element made the compiler copy the whole book first.
    static func plan(method: CostMethod, lots: [Lot], head: Int, totals current: BookTotals, side: Side, qty: Int64,
                     price: Price, time: Nanos) throws(LedgerError) -> FillPlan {
        var totals = current
        if side == .buy { totals.bought = try checkedAdd(totals.bought, qty) } else { totals.sold = try checkedAdd(totals.sold, qty) }
        totals.lastFillTime = max(totals.lastFillTime ?? time, time)
        var plan = FillPlan(totals: totals)
        var remaining = qty
        let closing = totals.openQty != 0 && (totals.openQty > 0) != (side == .buy)
        if closing {
            switch method {
            case .average:
                let positionSign: Int64 = totals.openQty > 0 ? 1 : -1
                let held = totals.openQty.magnitude
                let closed = Int64(min(UInt64(remaining), held))
                // The closed share of the exact total cost, rounded half away from zero; what is
                // left stays in openCost, so realized + unrealized is exact whatever the rounding.
                let removedCost = roundedShare(totals.openCost, closed, Int64(held))
                let proceeds = try checkedMultiply(try checkedMultiply(price.units, closed), positionSign)
                plan.totals.realizedUnits = try checkedAdd(plan.totals.realizedUnits, try checkedSubtract(proceeds, removedCost))
                plan.totals.openCost = try checkedSubtract(plan.totals.openCost, removedCost)
                plan.totals.openQty -= positionSign * closed
                remaining -= closed
            case .lifo, .fifo:
                var index = method == .lifo ? lots.count - 1 : head
                while remaining > 0, index >= head, index < lots.count {
                    let lot = lots[index]
                    let lotSign: Int64 = lot.qty > 0 ? 1 : -1
                    let matched = min(remaining, lot.qty.magnitude > UInt64(Int64.max) ? Int64.max : Int64(lot.qty.magnitude))
                    let signedMatched = matched * lotSign
                    let gain = try checkedMultiply(try checkedSubtract(price.units, lot.price.units), signedMatched)
                    plan.totals.realizedUnits = try checkedAdd(plan.totals.realizedUnits, gain)
                    plan.totals.openCost = try checkedSubtract(plan.totals.openCost, try checkedMultiply(lot.price.units, signedMatched))
                    plan.totals.openQty -= signedMatched
                    remaining -= matched
                    if signedMatched == lot.qty {
                        plan.closedLots += 1
                        index += method == .lifo ? -1 : 1
                    } else {
                        plan.partialQty = lot.qty - signedMatched
                    }
                }
            }
        }
        if remaining > 0 {
            let signedOpen = side.sign * remaining
            plan.totals.openCost = try checkedAdd(plan.totals.openCost, try checkedMultiply(price.units, signedOpen))
            plan.totals.openQty = try checkedAdd(plan.totals.openQty, signedOpen)
            if method != .average { plan.opened = Lot(qty: signedOpen, price: price) }
        }
        return plan
    }

    mutating func commit(_ plan: FillPlan) {
        switch method {
        case .lifo:
            lots.removeLast(plan.closedLots)
            if let partial = plan.partialQty { lots[lots.count - 1].qty = partial }
        case .fifo:
            head += plan.closedLots
            if let partial = plan.partialQty { lots[head].qty = partial }
            if head == lots.count {
                lots.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64, head * 2 >= lots.count {
                // Reclaim the consumed prefix now and then, amortized O(1) per lot.
                lots.removeFirst(head)
                head = 0
            }
        case .average:
            break
        }
        if let opened = plan.opened { lots.append(opened) }
        totals = plan.totals
    }

    /// Sets the SOD lots and what is kept with them (their Σ qty and average price).
    mutating func setSODLots(_ lots: [Lot]) throws(LedgerError) {
        sodLots = lots
        sodQty = 0
        var sodCost: Int64 = 0
        for lot in lots {
            sodQty = try checkedAdd(sodQty, lot.qty)
            sodCost = try checkedAdd(sodCost, try checkedMultiply(lot.price.units, lot.qty))
        }
        sodPrice = sodQty == 0 ? lots.first?.price : Price(units: roundedDivide(sodCost, sodQty))
    }

    /// This book rebuilt from its SOD lots and the given fills, as if only they had happened:
    /// busts, corrections, late fills and SOD changes all come through here.
    func replayed(sodLots: [Lot], fills: [Int32], fill: (Int32) -> BookFill) throws(LedgerError) -> Book {
        var book = Book(account: account, instrument: instrument, accountId: accountId,
                        instrumentIndex: instrumentIndex, method: method)
        try book.setSODLots(sodLots)
        book.fills = fills
        for lot in sodLots where lot.qty != 0 {
            book.totals.openQty = try checkedAdd(book.totals.openQty, lot.qty)
            book.totals.openCost = try checkedAdd(book.totals.openCost, try checkedMultiply(lot.price.units, lot.qty))
            if method != .average { book.lots.append(lot) }
        }
        if method != .average, book.lots.count > 1 {
            // SOD lots of mixed sides net off first, in order, like fills would.
            let lots = book.lots
            book.lots = []
            book.totals = BookTotals()
            for lot in lots {
                let plan = try book.plan(side: lot.qty > 0 ? .buy : .sell, qty: Int64(lot.qty.magnitude), price: lot.price, time: 0)
                book.commit(plan)
            }
            book.totals.bought = 0
            book.totals.sold = 0
            book.totals.realizedUnits = 0
            book.totals.lastFillTime = nil
        }
        for index in fills {
            let f = fill(index)
            book.commit(try book.plan(side: f.side, qty: f.qty, price: f.price, time: f.time))
            book.lastListedTime = f.time
        }
        return book
    }
}

/// a / b rounded to the nearest integer, halves away from zero. The one unrepresentable case,
/// Int64.min / -1, saturates instead of trapping.
func roundedDivide(_ a: Int64, _ b: Int64) -> Int64 {
    if b == -1 { return a == .min ? .max : -a }
    let quotient = a / b
    let remainder = a % b
    if remainder.magnitude * 2 >= b.magnitude {
        return quotient + ((a < 0) == (b < 0) ? 1 : -1)
    }
    return quotient
}

/// total × part / whole rounded half away from zero, through 128 bits so it cannot overflow
/// (the result is at most |total|).
func roundedShare(_ total: Int64, _ part: Int64, _ whole: Int64) -> Int64 {
    let numerator = Int128(total) * Int128(part)
    let denominator = Int128(whole)
    let quotient = numerator / denominator
    let remainder = numerator % denominator
    if remainder.magnitude * 2 >= denominator.magnitude {
        return Int64(quotient + ((numerator < 0) == (denominator < 0) ? 1 : -1))
    }
    return Int64(quotient)
}
