/// Everything that can refuse an event, without changing anything: the server runs `check` on a
/// whole HTTP batch before applying any item, and `apply` runs the same checks first.
extension Ledger {
    public func check(_ event: LedgerEvent) throws(LedgerError) {
        switch event {
        case .fill(let fill):
            _ = try validateFill(fill)
            if let id = fill.orderId { _ = try orderAfterFill(fill, current: orders[id]) }
        case .order(let order):
            _ = try orderAfter(order, current: orders[order.orderId], unclaimed: unclaimedOrderFills[order.orderId] ?? 0) { markPrice[$0] }
        case .bust(let execId, _): _ = try validateBust(execId)
        case .correct(let execId, let qty, let price, _): _ = try validateCorrection(execId, qty: qty, price: price)
        case .mark(let instrument, let price, _, _): _ = try validateMark(instrument, price: price)
        case .sod(let account, let instrument, let qty, let price, _):
            _ = try validateSOD(account: account, instrument: instrument, qty: qty, price: price)
        case .dayRoll: break
        }
    }

    func instrumentIndex(_ symbol: String) throws(LedgerError) -> Int {
        guard let index = catalog.index(of: symbol) else { throw .unknownInstrument(symbol) }
        return index
    }

    /// On the tick grid, and inside the band around the latest mark when one is configured.
    func checkPrice(_ price: Price, instrument index: Int) throws(LedgerError) {
        try checkPrice(price, instrument: index, mark: markPrice[index])
    }

    /// The same against a given latest mark (a batch check sees marks earlier in the batch).
    func checkPrice(_ price: Price, instrument index: Int, mark: Price?) throws(LedgerError) {
        let facts = facts[index]
        guard price.units % facts.tickUnits == 0 else { throw .priceOffGrid(price.decimalString) }
        if let width = facts.bandUnits, let mark {
            let (distance, overflow) = price.units.subtractingReportingOverflow(mark.units)
            if overflow || distance.magnitude > width.magnitude {
                throw .priceOutOfBand(instrument: catalog.all[index].symbol, price: price, mark: mark, band: Price(units: width))
            }
        }
    }

    func validateFill(_ fill: Fill) throws(LedgerError) -> Int {
        let index = try validateFillFields(fill)
        guard execIds.arrival(of: fill.execId) == nil else { throw .duplicateExecId(fill.execId) }
        return index
    }

    /// Everything but the duplicate check, which `apply` folds into inserting the execId.
    func validateFillFields(_ fill: Fill, marks overlay: [Int: Price] = [:]) throws(LedgerError) -> Int {
        guard !fill.execId.isEmpty else { throw .missingField("execId") }
        guard !fill.account.isEmpty else { throw .missingField("account") }
        let index = try instrumentIndex(fill.instrument)
        guard fill.qty > 0 else { throw .invalidQuantity(fill.qty) }
        try checkPrice(fill.price, instrument: index, mark: overlay[index] ?? markPrice[index])
        return index
    }

    /// The arrival index of a live fill of the current trading day.
    func validateBust(_ execId: String) throws(LedgerError) -> Int32 {
        guard let arrival = execIds.arrival(of: execId) else { throw .unknownFill(execId) }
        let entry = entries[Int(arrival)]
        guard entry.status != .busted else { throw .fillAlreadyBusted(execId) }
        guard entry.day == day else { throw .fillInClosedDay(execId) }
        return arrival
    }

    func validateCorrection(_ execId: String, qty: Int64?, price: Price?) throws(LedgerError) -> (arrival: Int32, fill: Fill) {
        let arrival = try validateBust(execId)
        guard qty != nil || price != nil else { throw .emptyCorrection(execId) }
        var fill = self.fill(arrival)
        if let qty {
            guard qty > 0 else { throw .invalidQuantity(qty) }
            fill.qty = qty
        }
        if let price {
            try checkPrice(price, instrument: try instrumentIndex(fill.instrument))
            fill.price = price
        }
        return (arrival, fill)
    }

    func validateMark(_ instrument: String, price: Price) throws(LedgerError) -> Int {
        let index = try instrumentIndex(instrument)
        try checkPrice(price, instrument: index)
        return index
    }

    func validateSOD(account: String, instrument: String, qty: Int64, price: Price) throws(LedgerError) -> Int {
        guard !account.isEmpty else { throw .missingField("account") }
        // Int64.min has no positive counterpart: closing it could not be represented.
        guard qty != .min else { throw .invalidQuantity(qty) }
        let index = try instrumentIndex(instrument)
        // SOD is the prior settlement: on the grid, but not held to today's band.
        guard catalog.all[index].isOnGrid(price) else { throw .priceOffGrid(price.decimalString) }
        return index
    }
}
