import Bytes

extension Ledger {
    /// Applies one event and returns exactly what changed, in a deterministic order. Every step
    /// that can fail (validation, overflow) runs before the first mutation, so a throw leaves the
    /// ledger untouched.
    public mutating func apply(_ event: LedgerEvent) throws(LedgerError) -> [LedgerDelta] {
        switch event {
        case .fill(let fill): return try applyFill(fill)
        case .bust(let execId, let time): return try applyBust(execId, time: time)
        case .correct(let execId, let qty, let price, let time): return try applyCorrection(execId, qty: qty, price: price, time: time)
        case .mark(let instrument, let price, let time, let source):
            return try applyMark(MarkRecord(instrument: instrument, price: price, time: time, source: source))
        case .sod(let account, let instrument, let qty, let price, _):
            return try applySOD(account: account, instrument: instrument, qty: qty, price: price)
        case .dayRoll: return try applyDayRoll()
        case .order(let order): return try applyOrder(order)
        }
    }

    // MARK: Events

    mutating func applyFill(_ fill: Fill) throws(LedgerError) -> [LedgerDelta] {
        let index = try validateFillFields(fill)
        // The order it names, checked before anything changes; stored only if the fill applies.
        let order = try fill.orderId.flatMap { id throws(LedgerError) in try orderAfterFill(fill, current: orders[id]) }
        let unclaimed = try unclaimedAfter(fill, known: order != nil, current: fill.orderId.flatMap { unclaimedOrderFills[$0] })
        var deltas = try applyFillAlone(fill, instrument: index)
        if let order {
            orders[order.orderId] = order
            deltas.insert(.order(order), at: 1)
        }
        if let unclaimed, let id = fill.orderId { unclaimedOrderFills[id] = unclaimed }
        return deltas
    }

    private mutating func applyFillAlone(_ fill: Fill, instrument index: Int) throws(LedgerError) -> [LedgerDelta] {
        let arrival = Int32(entries.count)
        // Claim the execId with one probe (it becomes arrival `entries.count`); a failure gives it back.
        if execIds.append(fill.execId) != nil { throw .duplicateExecId(fill.execId) }
        do {
            return try applyClaimedFill(fill, instrument: index, arrival: arrival)
        } catch {
            execIds.removeLast()
            throw error
        }
    }

    /// The fill after validation, with its execId already claimed in the index.
    private mutating func applyClaimedFill(_ fill: Fill, instrument index: Int, arrival: Int32) throws(LedgerError) -> [LedgerDelta] {
        let knownAccount = accountIdByName[fill.account]
        let accountId = knownAccount ?? Int32(accountNames.count)
        var knownBook: Int32?
        if let knownAccount {
            let id = bookBySlot[Int(knownAccount) * catalog.all.count + index]
            if id >= 0 { knownBook = id }
        }
        let bookId = knownBook ?? Int32(books.count)

        let oldTrade = lastTrade[index]
        var newTrade = oldTrade
        // Today's latest fill wins over any trade carried from a rolled day.
        let todays = oldTrade.flatMap { $0.arrival == carriedTrade[index]?.arrival ? nil : $0 }
        if todays.map({ fill.time >= $0.time }) ?? true {
            newTrade = LastTrade(time: fill.time, arrival: arrival, price: fill.price)
        }
        let oldReference = reference(instrument: index, lastTrade: oldTrade)
        let newReference = reference(instrument: index, lastTrade: newTrade)

        if let knownBook, let knownAccount, newReference == oldReference,
           books[Int(knownBook)].lastListedTime.map({ $0 <= fill.time }) ?? true {
            return try applyFillInOrder(fill, book: Int(knownBook), account: Int(knownAccount), arrival: arrival,
                                        instrument: index, trade: newTrade, reference: newReference)
        }

        // A new book, a late fill (replays the book) or a fill that moves other books' mark.
        var plan: FillPlan?
        var replacement: Book?
        var fresh: Book?
        let line: PositionLine
        if let knownBook {
            // Read the book in place: a local copy would keep a second reference to its lots and
            // fill list, and the commit below would then copy both arrays (copy-on-write).
            if books[Int(knownBook)].lastListedTime.map({ $0 <= fill.time }) ?? true {
                let planned = try books[Int(knownBook)].plan(side: fill.side, qty: fill.qty, price: fill.price, time: fill.time)
                line = try makeLine(books[Int(knownBook)], totals: planned.totals, reference: newReference)
                plan = planned
            } else {
                let book = books[Int(knownBook)]
                var list = book.fills
                let position = list.firstIndex { entries[Int($0)].time > fill.time } ?? list.count
                list.insert(arrival, at: position)
                let rebuilt = try Self.replay(book, fills: list, in: entries) { i in i == arrival ? fill : nil }
                line = try makeLine(rebuilt, totals: rebuilt.totals, reference: newReference)
                replacement = rebuilt
            }
        } else {
            let book = Book(account: fill.account, instrument: fill.instrument, accountId: accountId,
                            instrumentIndex: Int32(index), method: config.method(for: fill.account))
            let planned = try book.plan(side: fill.side, qty: fill.qty, price: fill.price, time: fill.time)
            line = try makeLine(book, totals: planned.totals, reference: newReference)
            plan = planned
            fresh = book
        }
        var staged = [StagedLine(book: bookId, accountId: accountId, line: line)]
        if newReference != oldReference {
            try restage(instrument: index, except: bookId, reference: newReference, into: &staged)
        }
        let rolled = try rollup(&staged, newAccount: knownAccount == nil ? fill.account : nil)

        // Commit: nothing below can fail.
        if knownAccount == nil { registerAccount(fill.account) }
        if var book = fresh {
            book.commit(plan!)
            book.fills.append(arrival)
            book.lastListedTime = fill.time
            register(book)
        } else if let plan {
            books[Int(bookId)].commit(plan)
            books[Int(bookId)].fills.append(arrival)
            books[Int(bookId)].lastListedTime = fill.time
        } else if let replacement {
            books[Int(bookId)] = replacement
        }
        let record = FillRecord(fill: fill)
        entries.append(FillEntry(fill, source: sourceId(fill.source), book: bookId, day: day))
        lastTrade[index] = newTrade
        return publish(first: .fill(record), staged: staged, accounts: rolled.accounts, desk: rolled.desk)
    }

    /// The hot path: a fill appended in time order to an existing book that moves no other book.
    /// Same result as the general path, without its staging arrays.
    private mutating func applyFillInOrder(_ fill: Fill, book id: Int, account accountId: Int, arrival: Int32, instrument index: Int,
                                           trade: LastTrade?, reference: Reference) throws(LedgerError) -> [LedgerDelta] {
        let planned = try Book.plan(method: books[id].method, lots: books[id].lots, head: books[id].head, totals: books[id].totals,
                                    side: fill.side, qty: fill.qty, price: fill.price, time: fill.time)
        let line = try Ledger.line(account: books[id].account, instrument: books[id].instrument, sodQty: books[id].sodQty,
                                   sodPrice: books[id].sodPrice, facts: facts[index], totals: planned.totals, reference: reference)
        let oldAccount = accountTotals[accountId]
        var account = oldAccount
        var desk = deskTotals
        try roll(from: lines[id], to: line, into: &account, desk: &desk)
        try settleLimit(&account)
        try settleDeskLimit(&desk)

        books[id].commit(planned)
        books[id].fills.append(arrival)
        books[id].lastListedTime = fill.time
        let record = FillRecord(fill: fill)
        entries.append(FillEntry(fill, source: sourceId(fill.source), book: Int32(id), day: day))
        lastTrade[index] = trade
        lines[id] = line
        accountTotals[accountId] = account

        var deltas: [LedgerDelta] = []
        deltas.reserveCapacity(5)
        deltas.append(.fill(record))
        deltas.append(.position(line))
        if account != oldAccount { deltas.append(.account(account)) }
        let deskLimitChanged = desk.limitState != deskTotals.limitState
        if desk != deskTotals {
            deskTotals = desk
            deltas.append(.desk(desk))
        }
        if account.limitState != oldAccount.limitState || account.positionState != oldAccount.positionState {
            deltas.append(.limit(account))
        }
        if deskLimitChanged { deltas.append(.deskLimit(desk)) }
        return deltas
    }

    mutating func applyBust(_ execId: String, time: Nanos) throws(LedgerError) -> [LedgerDelta] {
        let arrival = try validateBust(execId)
        let entry = entries[Int(arrival)]
        var list = books[Int(entry.book)].fills
        if let position = list.firstIndex(of: arrival) { list.remove(at: position) }
        var record = record(arrival)
        record.status = .busted
        record.statusTime = time
        return try replay(entry: arrival, book: entry.book, fills: list, changed: nil, record: record)
    }

    mutating func applyCorrection(_ execId: String, qty: Int64?, price: Price?, time: Nanos) throws(LedgerError) -> [LedgerDelta] {
        let (arrival, corrected) = try validateCorrection(execId, qty: qty, price: price)
        let entry = entries[Int(arrival)]
        var record = record(arrival)
        if record.status == .live {
            record.originalQty = record.fill.qty
            record.originalPrice = record.fill.price
        }
        record.fill = corrected
        record.status = .corrected
        record.statusTime = time
        return try replay(entry: arrival, book: entry.book, fills: books[Int(entry.book)].fills,
                          changed: corrected, record: record)
    }

    /// Bust and correction: rebuild the book from SOD with the changed fill list or fill.
    private mutating func replay(entry arrival: Int32, book bookId: Int32, fills list: [Int32], changed: Fill?,
                                 record: FillRecord) throws(LedgerError) -> [LedgerDelta] {
        let book = books[Int(bookId)]
        let index = Int(book.instrumentIndex)
        let rebuilt = try Self.replay(book, fills: list, in: entries) { i in i == arrival ? changed : nil }
        let oldTrade = lastTrade[index]
        var newTrade = oldTrade
        if oldTrade?.arrival == arrival {
            newTrade = latestTrade(instrument: index, book: bookId, fills: list, changed: changed.map { (arrival, $0) })
        }
        let oldReference = reference(instrument: index, lastTrade: oldTrade)
        let newReference = reference(instrument: index, lastTrade: newTrade)
        let line = try makeLine(rebuilt, totals: rebuilt.totals, reference: newReference)
        // A correction to the same qty and price changes the record but not the position.
        var staged = line == lines[Int(bookId)] ? [] : [StagedLine(book: bookId, accountId: book.accountId, line: line)]
        if newReference != oldReference {
            try restage(instrument: index, except: bookId, reference: newReference, into: &staged)
        }
        let rolled = try rollup(&staged, newAccount: nil)

        books[Int(bookId)] = rebuilt
        store(record, at: arrival)
        lastTrade[index] = newTrade
        return publish(first: .fill(record), staged: staged, accounts: rolled.accounts, desk: rolled.desk)
    }

    mutating func applyMark(_ mark: MarkRecord) throws(LedgerError) -> [LedgerDelta] {
        let index = try validateMark(mark.instrument, price: mark.price)
        var staged: [StagedLine] = []
        try restage(instrument: index, except: -1, reference: Reference(price: mark.price, source: .mark), into: &staged)
        let rolled = try rollup(&staged, newAccount: nil)
        markByInstrument[index] = mark
        markPrice[index] = mark.price
        return publish(first: .mark(mark), staged: staged, accounts: rolled.accounts, desk: rolled.desk)
    }

    mutating func applySOD(account: String, instrument: String, qty: Int64, price: Price) throws(LedgerError) -> [LedgerDelta] {
        let index = try validateSOD(account: account, instrument: instrument, qty: qty, price: price)
        let knownAccount = accountIdByName[account]
        let accountId = knownAccount ?? Int32(accountNames.count)
        var knownBook: Int32?
        if let knownAccount {
            let id = bookBySlot[Int(knownAccount) * catalog.all.count + index]
            if id >= 0 { knownBook = id }
        }
        let bookId = knownBook ?? Int32(books.count)
        let base = knownBook.map { books[Int($0)] }
            ?? Book(account: account, instrument: instrument, accountId: accountId, instrumentIndex: Int32(index),
                    method: config.method(for: account))
        let lots = qty == 0 ? [] : [Lot(qty: qty, price: price)]
        let rebuilt = try Self.replay(base, sodLots: lots, fills: base.fills, in: entries)
        let line = try makeLine(rebuilt, totals: rebuilt.totals, reference: reference(instrument: index, lastTrade: lastTrade[index]))
        // Repeating the same SOD changes nothing; a new book is always published.
        var staged = knownBook != nil && line == lines[Int(bookId)] ? [] : [StagedLine(book: bookId, accountId: accountId, line: line)]
        let rolled = try rollup(&staged, newAccount: knownAccount == nil ? account : nil)

        if knownAccount == nil { registerAccount(account) }
        if knownBook == nil { register(rebuilt) } else { books[Int(bookId)] = rebuilt }
        return publish(first: nil, staged: staged, accounts: rolled.accounts, desk: rolled.desk)
    }

    /// Open lots become SOD lots at the settlement (latest mark; without one each lot keeps its
    /// entry, average cost its rounded average); today's fills are closed for busts.
    mutating func applyDayRoll() throws(LedgerError) -> [LedgerDelta] {
        var rebuilt: [Book] = []
        rebuilt.reserveCapacity(books.count)
        var staged: [StagedLine] = []
        for book in books {
            let index = Int(book.instrumentIndex)
            let lots: [Lot]
            if let settlement = markPrice[index] {
                lots = book.totals.openQty == 0 ? [] : [Lot(qty: book.totals.openQty, price: settlement)]
            } else {
                lots = book.openLots
            }
            let next = try Self.replay(book, sodLots: lots, fills: [], in: entries)
            let line = try makeLine(next, totals: next.totals, reference: reference(instrument: index, lastTrade: lastTrade[index]))
            if line != lines[rebuilt.count] {
                staged.append(StagedLine(book: Int32(rebuilt.count), accountId: book.accountId, line: line))
            }
            rebuilt.append(next)
        }
        let rolled = try rollup(&staged, newAccount: nil)
        books = rebuilt
        day += 1
        carriedTrade = lastTrade
        rollOrders()
        return publish(first: nil, staged: staged, accounts: rolled.accounts, desk: rolled.desk)
    }
}

extension Ledger {
    /// A book rebuilt from SOD and `fills`, reading each fill from `entries` (unless `override`
    /// gives it). Static on purpose: a closure over `self` here copied the whole ledger value
    /// once per replayed fill, so a late fill into a book of 10,000 cost ~70 ms.
    static func replay(_ book: Book, sodLots: [Lot]? = nil, fills: [Int32], in entries: ChunkedArray<FillEntry>,
                       override: (Int32) -> Fill? = { _ in nil }) throws(LedgerError) -> Book {
        try book.replayed(sodLots: sodLots ?? book.sodLots, fills: fills) { i in
            if let given = override(i) { return BookFill(given) }
            let entry = entries[Int(i)]
            return BookFill(side: entry.side, qty: entry.qty, price: entry.price, time: entry.time)
        }
    }
}
