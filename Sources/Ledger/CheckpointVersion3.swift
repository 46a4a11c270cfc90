/// Reading checkpoints of versions 2 and 3, written before incremental checkpoints (version 4):
/// one self-contained blob with every fill, each book's SOD lots and today's fill list. The
/// books' lots and totals are rebuilt by replaying those lists. Journals written by older
/// releases keep such checkpoints until the first version-4 one supersedes them.
extension Ledger {
    static func restoreVersion3(_ input: inout CheckpointReader, version: UInt8, catalog: InstrumentCatalog,
                                config: LedgerConfig) throws(CheckpointError) -> Ledger {
        var ledger = Ledger(catalog: catalog, config: config)
        ledger.day = Int32(truncatingIfNeeded: try input.signed())

        struct StoredBook {
            var account: String
            var instrument: Int
            var method: CostMethod
            var sodLots: [Lot]
            var fills: [Int32]
        }
        var stored: [StoredBook] = []
        let bookCount = try input.count()
        for _ in 0..<bookCount {
            let (account, _, index, method) = try input.bookKey(catalog)
            let lots = try input.lots()
            var fills: [Int32] = []
            for _ in 0..<(try input.count()) { fills.append(Int32(truncatingIfNeeded: try input.unsigned())) }
            stored.append(StoredBook(account: account, instrument: index, method: method, sodLots: lots, fills: fills))
        }

        // Fills first (replays read them), then the books are rebuilt and registered in order.
        var records: [(record: FillRecord, day: Int32, book: Int)] = []
        let fillCount = try input.count()
        records.reserveCapacity(fillCount)
        for _ in 0..<fillCount {
            let execId = try input.string()
            let source = try input.string()
            let book = try input.count()
            guard book < stored.count else { throw .inconsistent("fill \(execId) names a missing book") }
            let side: Side = try input.byte() == 0 ? .buy : .sell
            let qty = try input.signed()
            guard qty > 0 else { throw .inconsistent("fill \(execId) has quantity \(qty)") }
            let price = Price(units: try input.signed())
            let time = try input.signed()
            let day = Int32(truncatingIfNeeded: try input.signed())
            guard let status = Ledger.status(code: try input.byte()) else { throw .unreadable("bad fill status") }
            let amendment = try input.amendment()
            let orderId = version >= 3 ? try input.string() : ""
            let fill = Fill(execId: execId, account: stored[book].account, instrument: catalog.all[stored[book].instrument].symbol,
                            side: side, qty: qty, price: price, time: time, source: source,
                            orderId: orderId.isEmpty ? nil : orderId)
            records.append((FillRecord(fill: fill, status: status, originalQty: amendment.originalQty,
                                       originalPrice: amendment.originalPrice, statusTime: amendment.statusTime), day, book))
        }
        for book in stored where !book.fills.allSatisfy({ $0 >= 0 && Int($0) < records.count }) {
            throw .inconsistent("book \(book.account)/\(catalog.all[book.instrument].symbol) names a missing fill")
        }

        var bookIds: [Int32] = []
        do {
            for book in stored {
                if ledger.accountIdByName[book.account] == nil { ledger.registerAccount(book.account) }
                let accountId = ledger.accountIdByName[book.account]!
                let empty = Book(account: book.account, instrument: catalog.all[book.instrument].symbol, accountId: accountId,
                                 instrumentIndex: Int32(book.instrument), method: book.method)
                let rebuilt = try empty.replayed(sodLots: book.sodLots, fills: book.fills) { i in BookFill(records[Int(i)].record.fill) }
                bookIds.append(Int32(ledger.books.count))
                ledger.register(rebuilt)
            }
        } catch {
            throw .inconsistent(error.message)
        }
        ledger.reserveCapacity(fills: records.count)
        for (arrival, stored) in records.enumerated() {
            guard ledger.execIds.append(stored.record.fill.execId) == nil else {
                throw .inconsistent("fill \(stored.record.fill.execId) stored twice")
            }
            ledger.entries.append(FillEntry(stored.record.fill, source: ledger.sourceId(stored.record.fill.source),
                                            book: bookIds[stored.book], day: stored.day))
            if stored.record.status != .live { ledger.store(stored.record, at: Int32(arrival)) }
        }

        try ledger.readMarksTradesAndOrders(&input, withOrders: version >= 3)
        guard input.atEnd else { throw .unreadable("trailing bytes after the checkpoint") }
        try ledger.rebuildLines()
        return ledger
    }
}
