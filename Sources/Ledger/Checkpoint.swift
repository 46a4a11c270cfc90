/// Why a checkpoint could not be restored.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    case unsupportedVersion(Int)
    case inconsistent(String)

    public var description: String {
        switch self {
        case .unreadable(let reason): return "checkpoint unreadable: \(reason)"
        case .unsupportedVersion(let version): return "checkpoint version \(version) is not supported"
        case .inconsistent(let reason): return "checkpoint inconsistent with the catalog: \(reason)"
        }
    }
}

private let checkpointMagic: [UInt8] = Array("LWLG".utf8)

/// The checkpoint holds only what cannot be derived: every fill record with its trading day,
/// per book (sorted) its method, SOD lots and today's fill list, the latest marks and the last
/// trades. Lots and totals are rebuilt by replay, so `restore(encodeState())` + the remaining
/// events equals a full replay.
///
/// Layout (version 3): magic "LWLG", version byte, day, books, fills (each with the order it
/// named, "" for none), marks, trades, orders, unclaimed order fills; integers as zigzag varints, strings
/// length-prefixed (see `CheckpointWriter`). Version 2 (no orders) is still read.
extension Ledger {
    static let checkpointVersion: UInt8 = 3

    /// Compact, deterministic checkpoint: the same state always encodes to the same bytes.
    public func encodeState() -> [UInt8] {
        var out = CheckpointWriter()
        out.bytes.reserveCapacity(64 + entries.count * 48)
        out.bytes.append(contentsOf: checkpointMagic)
        out.byte(Ledger.checkpointVersion)
        out.signed(Int64(day))

        // Books in (account, instrument) order; fills name their book by position in this list.
        var position = [Int32](repeating: 0, count: books.count)
        out.count(bookOrder.count)
        for (rank, id) in bookOrder.enumerated() {
            let book = books[Int(id)]
            position[Int(id)] = Int32(rank)
            out.string(book.account)
            out.string(book.instrument)
            out.byte(Ledger.methodCode(book.method))
            out.count(book.sodLots.count)
            for lot in book.sodLots {
                out.signed(lot.qty)
                out.signed(lot.price.units)
            }
            out.count(book.fills.count)
            for arrival in book.fills { out.count(Int(arrival)) }
        }

        out.count(entries.count)
        for (arrival, entry) in entries.enumerated() {
            out.string(entry.execId)
            out.string(entry.source)
            out.count(Int(position[Int(entry.book)]))
            out.byte(entry.side == .buy ? 0 : 1)
            out.signed(entry.qty)
            out.signed(entry.price.units)
            out.signed(entry.time)
            out.signed(Int64(entry.day))
            out.byte(Ledger.statusCode(entry.status))
            let amendment = entry.status == .live ? nil : amendments[Int32(arrival)]
            let flags: UInt8 = (amendment?.originalQty != nil ? 1 : 0) | (amendment?.originalPrice != nil ? 2 : 0)
                | (amendment?.statusTime != nil ? 4 : 0)
            out.byte(flags)
            if let qty = amendment?.originalQty { out.signed(qty) }
            if let price = amendment?.originalPrice { out.signed(price.units) }
            if let time = amendment?.statusTime { out.signed(time) }
            out.string(entry.orderId ?? "")
        }

        let marks = self.marks
        out.count(marks.count)
        for mark in marks {
            out.string(mark.instrument)
            out.signed(mark.price.units)
            out.signed(mark.time)
            out.string(mark.source)
        }

        func trade(_ trade: LastTrade?) {
            guard let trade else { return out.byte(0) }
            out.byte(1)
            out.signed(trade.time)
            out.signed(Int64(trade.arrival))
            out.signed(trade.price.units)
        }
        let traded = catalog.all.indices.filter { lastTrade[$0] != nil || carriedTrade[$0] != nil }
        out.count(traded.count)
        for index in traded {
            out.string(catalog.all[index].symbol)
            trade(lastTrade[index])
            trade(carriedTrade[index])
        }

        let held = orders.values.sorted { $0.orderId < $1.orderId }
        out.count(held.count)
        for order in held {
            out.string(order.orderId)
            out.string(order.account)
            out.string(order.instrument)
            out.byte(order.side == .buy ? 0 : 1)
            out.signed(order.price.units)
            out.signed(order.qty)
            out.signed(order.leavesQty)
            out.signed(order.filledQty)
            out.byte(Ledger.orderStatusCode(order.status))
            out.signed(order.version)
            out.signed(order.time)
            out.string(order.source)
        }
        let unclaimed = unclaimedOrderFills.keys.sorted()
        out.count(unclaimed.count)
        for id in unclaimed {
            out.string(id)
            out.signed(unclaimedOrderFills[id]!)
        }
        return out.bytes
    }

    public static func restore(from bytes: [UInt8], catalog: InstrumentCatalog, config: LedgerConfig) throws(CheckpointError) -> Ledger {
        var input = CheckpointReader(bytes)
        guard bytes.count >= 5, Array(bytes[0..<4]) == checkpointMagic else { throw .unreadable("not a ledger checkpoint") }
        input.offset = 4
        let version = try input.byte()
        guard version == 2 || version == checkpointVersion else { throw .unsupportedVersion(Int(version)) }
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
            let account = try input.string()
            let symbol = try input.string()
            guard let index = catalog.index(of: symbol) else { throw .inconsistent("unknown instrument \(symbol)") }
            guard let method = Ledger.method(code: try input.byte()) else { throw .unreadable("bad cost method") }
            var lots: [Lot] = []
            for _ in 0..<(try input.count()) {
                let qty = try input.signed()
                lots.append(Lot(qty: qty, price: Price(units: try input.signed())))
            }
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
            let flags = try input.byte()
            let originalQty = flags & 1 != 0 ? try input.signed() : nil
            let originalPrice = flags & 2 != 0 ? Price(units: try input.signed()) : nil
            let statusTime = flags & 4 != 0 ? try input.signed() : nil
            let orderId = version >= 3 ? try input.string() : ""
            let fill = Fill(execId: execId, account: stored[book].account, instrument: catalog.all[stored[book].instrument].symbol,
                            side: side, qty: qty, price: price, time: time, source: source,
                            orderId: orderId.isEmpty ? nil : orderId)
            records.append((FillRecord(fill: fill, status: status, originalQty: originalQty, originalPrice: originalPrice,
                                       statusTime: statusTime), day, book))
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
                let rebuilt = try empty.replayed(sodLots: book.sodLots, fills: book.fills) { i in records[Int(i)].record.fill }
                bookIds.append(Int32(ledger.books.count))
                ledger.register(rebuilt)
            }
        } catch {
            throw .inconsistent(error.message)
        }
        ledger.reserveCapacity(fills: records.count)
        for (arrival, stored) in records.enumerated() {
            ledger.entryByExecId[stored.record.fill.execId] = Int32(arrival)
            ledger.entries.append(FillEntry(stored.record.fill, book: bookIds[stored.book], day: stored.day))
            if stored.record.status != .live { ledger.store(stored.record, at: Int32(arrival)) }
        }

        for _ in 0..<(try input.count()) {
            let symbol = try input.string()
            guard let index = catalog.index(of: symbol) else { throw .inconsistent("unknown instrument \(symbol)") }
            let price = Price(units: try input.signed())
            let time = try input.signed()
            let mark = MarkRecord(instrument: symbol, price: price, time: time, source: try input.string())
            ledger.markByInstrument[index] = mark
            ledger.markPrice[index] = price
        }
        func trade() throws(CheckpointError) -> LastTrade? {
            guard try input.byte() == 1 else { return nil }
            let time = try input.signed()
            let arrival = Int32(truncatingIfNeeded: try input.signed())
            return LastTrade(time: time, arrival: arrival, price: Price(units: try input.signed()))
        }
        for _ in 0..<(try input.count()) {
            let symbol = try input.string()
            guard let index = catalog.index(of: symbol) else { throw .inconsistent("unknown instrument \(symbol)") }
            ledger.lastTrade[index] = try trade()
            ledger.carriedTrade[index] = try trade()
        }
        if version >= 3 {
            for _ in 0..<(try input.count()) {
                let orderId = try input.string()
                let account = try input.string()
                let symbol = try input.string()
                guard catalog.index(of: symbol) != nil else { throw .inconsistent("unknown instrument \(symbol)") }
                let side: Side = try input.byte() == 0 ? .buy : .sell
                let price = Price(units: try input.signed())
                let qty = try input.signed()
                let leaves = try input.signed()
                let filled = try input.signed()
                guard let status = Ledger.orderStatus(code: try input.byte()) else { throw .unreadable("bad order status") }
                let orderVersion = try input.signed()
                let time = try input.signed()
                ledger.orders[orderId] = OrderRecord(orderId: orderId, account: account, instrument: symbol, side: side,
                                                     price: price, qty: qty, leavesQty: leaves, filledQty: filled,
                                                     status: status, version: orderVersion, time: time,
                                                     source: try input.string())
            }
            for _ in 0..<(try input.count()) {
                let id = try input.string()
                ledger.unclaimedOrderFills[id] = try input.signed()
            }
        }
        guard input.atEnd else { throw .unreadable("trailing bytes after the checkpoint") }

        // Lines and totals from scratch: the placeholder lines are zero, so the rollup of every
        // line against them is the full sum.
        do {
            var staged: [StagedLine] = []
            for (id, book) in ledger.books.enumerated() {
                let index = Int(book.instrumentIndex)
                let line = try ledger.makeLine(book, totals: book.totals,
                                               reference: ledger.reference(instrument: index, lastTrade: ledger.lastTrade[index]))
                staged.append(StagedLine(book: Int32(id), accountId: book.accountId, line: line))
            }
            let rolled = try ledger.rollup(&staged, newAccount: nil)
            _ = ledger.publish(first: nil, staged: staged, accounts: rolled.accounts, desk: rolled.desk)
        } catch {
            throw .inconsistent(error.message)
        }
        return ledger
    }

    static func methodCode(_ method: CostMethod) -> UInt8 {
        switch method {
        case .lifo: return 0
        case .fifo: return 1
        case .average: return 2
        }
    }

    static func method(code: UInt8) -> CostMethod? {
        switch code {
        case 0: return .lifo
        case 1: return .fifo
        case 2: return .average
        default: return nil
        }
    }

    static func statusCode(_ status: FillStatus) -> UInt8 {
        switch status {
        case .live: return 0
        case .busted: return 1
        case .corrected: return 2
        }
    }

    static func orderStatusCode(_ status: OrderStatus) -> UInt8 {
        switch status {
        case .working: return 0
        case .filled: return 1
        case .cancelled: return 2
        case .rejected: return 3
        }
    }

    static func orderStatus(code: UInt8) -> OrderStatus? {
        switch code {
        case 0: return .working
        case 1: return .filled
        case 2: return .cancelled
        case 3: return .rejected
        default: return nil
        }
    }

    static func status(code: UInt8) -> FillStatus? {
        switch code {
        case 0: return .live
        case 1: return .busted
        case 2: return .corrected
        default: return nil
        }
    }
}
