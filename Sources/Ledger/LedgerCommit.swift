/// Committing staged changes and registering new accounts and books: nothing here can fail.
extension Ledger {
    mutating func registerAccount(_ name: String) {
        let id = Int32(accountNames.count)
        accountNames.append(name)
        accountIdByName[name] = id
        accountTotals.append(AccountTotals(account: name, lossLimit: config.lossLimit(for: name),
                                           limitState: .ok, positionLimit: config.positionLimit(for: name)))
        let position = accountOrder.partitionPoint { accountNames[Int($0)] < name }
        accountOrder.insert(id, at: position)
        bookBySlot.append(contentsOf: repeatElement(-1, count: catalog.all.count))
    }

    mutating func register(_ book: Book) {
        let id = Int32(books.count)
        books.append(book)
        lines.append(PositionLine(account: book.account, instrument: book.instrument))
        bookBySlot[Int(book.accountId) * catalog.all.count + Int(book.instrumentIndex)] = id
        let key = (book.account, book.instrument)
        let position = bookOrder.partitionPoint { (books[Int($0)].account, books[Int($0)].instrument) < key }
        bookOrder.insert(id, at: position)
        let index = Int(book.instrumentIndex)
        let inInstrument = booksByInstrument[index].partitionPoint { books[Int($0)].account < book.account }
        booksByInstrument[index].insert(id, at: inInstrument)
    }

    mutating func publish(first: LedgerDelta?, staged: [StagedLine], accounts: [StagedAccount], desk: DeskTotals) -> [LedgerDelta] {
        var deltas: [LedgerDelta] = []
        deltas.reserveCapacity(staged.count + accounts.count + 2)
        if let first { deltas.append(first) }
        for change in staged {
            lines[Int(change.book)] = change.line
            deltas.append(.position(change.line))
        }
        var limits: [AccountTotals] = []
        for account in accounts {
            accountTotals[Int(account.id)] = account.new
            if account.old != account.new { deltas.append(.account(account.new)) }
            if (account.old?.limitState ?? .ok) != account.new.limitState
                || (account.old?.positionState ?? .ok) != account.new.positionState { limits.append(account.new) }
        }
        let deskLimitChanged = desk.limitState != deskTotals.limitState
        if desk != deskTotals {
            deskTotals = desk
            deltas.append(.desk(desk))
        }
        for account in limits { deltas.append(.limit(account)) }
        if deskLimitChanged { deltas.append(.deskLimit(desk)) }
        return deltas
    }
}

extension Array {
    /// The first index whose element is not `belongsBefore` (the array is partitioned by it).
    func partitionPoint(_ belongsBefore: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if belongsBefore(self[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
