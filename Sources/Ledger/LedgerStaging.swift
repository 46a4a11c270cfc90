/// A recomputed position line waiting to be committed.
struct StagedLine {
    var book: Int32
    var accountId: Int32
    var line: PositionLine
}

/// Recomputed account totals waiting to be committed (`old` nil for a new account).
struct StagedAccount {
    var id: Int32
    var old: AccountTotals?
    var new: AccountTotals
}

/// Recomputing lines and totals before anything is committed: every step here may throw
/// (overflow) and changes nothing.
extension Ledger {
    /// Lines of the instrument's other books valued at a new reference, when they change.
    func restage(instrument index: Int, except: Int32, reference: Reference, into staged: inout [StagedLine]) throws(LedgerError) {
        for id in booksByInstrument[index] where id != except {
            let book = books[Int(id)]
            let line = try makeLine(book, totals: book.totals, reference: reference)
            if line != lines[Int(id)] { staged.append(StagedLine(book: id, accountId: book.accountId, line: line)) }
        }
    }

    /// The instrument's latest live fill by (time, arrival) with one book's list replaced: each
    /// list is sorted, so only last elements compete. Falls back to the carried trade.
    func latestTrade(instrument index: Int, book: Int32, fills list: [Int32], changed: (Int32, Fill)?) -> LastTrade? {
        var best: LastTrade?
        for id in booksByInstrument[index] {
            guard let last = (id == book ? list : books[Int(id)].fills).last else { continue }
            let fill = changed.flatMap { $0.0 == last ? $0.1 : nil } ?? self.fill(last)
            if best.map({ (fill.time, last) > ($0.time, $0.arrival) }) ?? true {
                best = LastTrade(time: fill.time, arrival: last, price: fill.price)
            }
        }
        return best ?? carriedTrade[index]
    }

    func makeLine(_ book: Book, totals: BookTotals, reference: Reference) throws(LedgerError) -> PositionLine {
        try Ledger.line(account: book.account, instrument: book.instrument, sodQty: book.sodQty, sodPrice: book.sodPrice,
                        facts: facts[Int(book.instrumentIndex)], totals: totals, reference: reference)
    }

    /// A position line from a book's numbers. Static, and fed fields rather than a `Book`, so the
    /// hot path can call it on `books[id]` in place without the compiler copying the ledger.
    static func line(account: String, instrument: String, sodQty: Int64, sodPrice: Price?, facts: InstrumentFacts,
                     totals: BookTotals, reference: Reference) throws(LedgerError) -> PositionLine {
        var line = PositionLine(account: account, instrument: instrument)
        line.sodQty = sodQty
        line.sodPrice = sodPrice
        line.bought = totals.bought
        line.sold = totals.sold
        line.net = totals.openQty
        line.avgPrice = totals.openQty == 0 ? nil : Price(units: roundedDivide(totals.openCost, totals.openQty))
        if let price = reference.price {
            line.mark = price
            line.markSource = reference.source
        } else if let sodPrice = line.sodPrice {
            line.mark = sodPrice
            line.markSource = .sod
        }
        let dollarsPerPoint = facts.dollarsPerPoint
        line.realized = Money(units: try checkedMultiply(totals.realizedUnits, dollarsPerPoint))
        if let mark = line.mark, totals.openQty != 0 {
            let value = try checkedMultiply(mark.units, totals.openQty)
            line.unrealized = Money(units: try checkedMultiply(try checkedSubtract(value, totals.openCost), dollarsPerPoint))
        }
        line.total = try line.realized.adding(line.unrealized)
        line.dv01 = Money(units: try checkedMultiply(facts.dv01Units, totals.openQty))
        line.lastFillTime = totals.lastFillTime
        return line
    }

    /// New account and desk totals from the changed lines (differences against the old lines);
    /// also sorts the staged lines into publishing order.
    func rollup(_ staged: inout [StagedLine], newAccount: String?) throws(LedgerError) -> (accounts: [StagedAccount], desk: DeskTotals) {
        if staged.count > 1 {
            staged.sort { ($0.line.account, $0.line.instrument) < ($1.line.account, $1.line.instrument) }
        }
        var accounts: [StagedAccount] = []
        var desk = deskTotals
        for change in staged {
            let old: PositionLine? = Int(change.book) < lines.count ? lines[Int(change.book)] : nil
            var slot = accounts.firstIndex { $0.id == change.accountId } ?? -1
            if slot < 0 {
                if Int(change.accountId) < accountTotals.count {
                    let current = accountTotals[Int(change.accountId)]
                    accounts.append(StagedAccount(id: change.accountId, old: current, new: current))
                } else {
                    let name = newAccount ?? change.line.account
                    accounts.append(StagedAccount(id: change.accountId, old: nil,
                                                  new: AccountTotals(account: name, lossLimit: config.lossLimit(for: name),
                                                                     positionLimit: config.positionLimit(for: name))))
                }
                slot = accounts.count - 1
            }
            try roll(from: old, to: change.line, into: &accounts[slot].new, desk: &desk)
        }
        for slot in accounts.indices { try settleLimit(&accounts[slot].new) }
        try settleDeskLimit(&desk)
        if accounts.count > 1 { accounts.sort { $0.new.account < $1.new.account } }
        return (accounts, desk)
    }

    /// Moves one line's contribution from `old` to `new` in its account and the desk.
    @inline(__always)
    func roll(from old: PositionLine?, to new: PositionLine, into totals: inout AccountTotals, desk: inout DeskTotals) throws(LedgerError) {
        totals.realized = try shift(totals.realized, old?.realized, new.realized)
        totals.unrealized = try shift(totals.unrealized, old?.unrealized, new.unrealized)
        totals.total = try shift(totals.total, old?.total, new.total)
        totals.dv01 = try shift(totals.dv01, old?.dv01, new.dv01)
        totals.netContracts = try checkedAdd(try checkedSubtract(totals.netContracts, old?.net ?? 0), new.net)
        let oldGross = Int64(clamping: (old?.net ?? 0).magnitude), newGross = Int64(clamping: new.net.magnitude)
        totals.grossContracts = try checkedAdd(try checkedSubtract(totals.grossContracts, oldGross), newGross)
        desk.realized = try shift(desk.realized, old?.realized, new.realized)
        desk.unrealized = try shift(desk.unrealized, old?.unrealized, new.unrealized)
        desk.total = try shift(desk.total, old?.total, new.total)
        desk.dv01 = try shift(desk.dv01, old?.dv01, new.dv01)
        desk.grossContracts = try checkedAdd(try checkedSubtract(desk.grossContracts, oldGross), newGross)
    }

    func settleLimit(_ totals: inout AccountTotals) throws(LedgerError) {
        totals.limitUsed = totals.total.units < 0 ? Money(units: try checkedSubtract(0, totals.total.units)) : .zero
        totals.limitState = limitState(used: totals.limitUsed, limit: totals.lossLimit)
        totals.positionState = positionState(gross: totals.grossContracts, limit: totals.positionLimit)
    }

    /// Only with a desk loss limit configured (else the desk totals stay as they always were).
    func settleDeskLimit(_ desk: inout DeskTotals) throws(LedgerError) {
        guard desk.lossLimit != nil else { return }
        desk.limitUsed = desk.total.units < 0 ? Money(units: try checkedSubtract(0, desk.total.units)) : .zero
        desk.limitState = limitState(used: desk.limitUsed, limit: desk.lossLimit)
    }

    /// Gross contracts against a position limit: warning at ≥ 80 %, breached at ≥ 100 %.
    func positionState(gross: Int64, limit: Int64?) -> LimitState {
        guard let limit, limit > 0 else { return .ok }
        if gross >= limit { return .breached }
        return Int128(gross) * 10 >= Int128(limit) * 8 ? .warning : .ok
    }

    private func shift(_ value: Money, _ old: Money?, _ new: Money) throws(LedgerError) -> Money {
        try value.subtracting(old ?? .zero).adding(new)
    }

    func limitState(used: Money, limit: Money?) -> LimitState {
        guard let limit, limit.units > 0 else { return .ok }
        if used >= limit { return .breached }
        // used ≥ 80 % of limit, compared as 10·used ≥ 8·limit in 128 bits.
        return Int128(used.units) * 10 >= Int128(limit.units) * 8 ? .warning : .ok
    }
}
