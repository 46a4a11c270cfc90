/// Validating a whole batch (`POST /api/fills`) before applying any item: each item is checked
/// against the state the earlier accepted items of the batch would leave, without applying
/// anything (copying the ledger to try would copy its fill store).
extension Ledger {
    /// One result per event, in order: nil when it would be accepted, else the error `apply`
    /// would throw. Overflow, which only arithmetic can reveal, is not predicted.
    public func check(batch events: [LedgerEvent]) -> [LedgerError?] {
        // What the accepted items before this one changed.
        var added: [String: (instrument: Int, rolls: Int)] = [:]
        var busted: Set<String> = []
        var marks: [Int: Price] = [:]
        var rolls = 0
        var orderOverlay: [String: OrderRecord] = [:]
        var unclaimedOverlay: [String: Int64] = [:]

        /// The instrument index of a fill that may still be busted or corrected.
        func open(_ execId: String) throws(LedgerError) -> Int {
            if busted.contains(execId) { throw .fillAlreadyBusted(execId) }
            if let new = added[execId] {
                guard new.rolls == rolls else { throw .fillInClosedDay(execId) }
                return new.instrument
            }
            guard let arrival = execIds.arrival(of: execId) else { throw .unknownFill(execId) }
            let entry = entries[Int(arrival)]
            guard entry.status != .busted else { throw .fillAlreadyBusted(execId) }
            guard entry.day == day, rolls == 0 else { throw .fillInClosedDay(execId) }
            return Int(books[Int(entry.book)].instrumentIndex)
        }

        return events.map { event in
            do throws(LedgerError) {
                switch event {
                case .fill(let fill):
                    let index = try validateFillFields(fill, marks: marks)
                    guard execIds.arrival(of: fill.execId) == nil, added[fill.execId] == nil else { throw .duplicateExecId(fill.execId) }
                    if let id = fill.orderId {
                        let order = try orderAfterFill(fill, current: orderOverlay[id] ?? orders[id])
                        if let order { orderOverlay[id] = order }
                        if let sum = try unclaimedAfter(fill, known: order != nil, current: unclaimedOverlay[id] ?? unclaimedOrderFills[id]) {
                            unclaimedOverlay[id] = sum
                        }
                    }
                    added[fill.execId] = (index, rolls)
                case .bust(let execId, _):
                    _ = try open(execId)
                    busted.insert(execId)
                case .correct(let execId, let qty, let price, _):
                    let index = try open(execId)
                    guard qty != nil || price != nil else { throw .emptyCorrection(execId) }
                    if let qty, qty <= 0 { throw .invalidQuantity(qty) }
                    if let price { try checkPrice(price, instrument: index, mark: marks[index] ?? markPrice[index]) }
                case .mark(let instrument, let price, _, _):
                    let index = try instrumentIndex(instrument)
                    try checkPrice(price, instrument: index, mark: marks[index] ?? markPrice[index])
                    marks[index] = price
                case .sod(let account, let instrument, let qty, let price, _):
                    _ = try validateSOD(account: account, instrument: instrument, qty: qty, price: price)
                case .dayRoll:
                    rolls += 1
                case .order(let event):
                    let order = try orderAfter(event, current: orderOverlay[event.orderId] ?? orders[event.orderId],
                                               unclaimed: unclaimedOverlay[event.orderId] ?? unclaimedOrderFills[event.orderId] ?? 0) {
                        marks[$0] ?? markPrice[$0]
                    }
                    orderOverlay[event.orderId] = order
                    unclaimedOverlay[event.orderId] = 0
                }
                return nil
            } catch {
                return error
            }
        }
    }
}
