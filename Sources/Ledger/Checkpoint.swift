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

/// A checkpoint cut for storing incrementally: the fill log is append-only, so a checkpoint need
/// only carry the fills that arrived since the previous one (`segments`, which continue the log
/// already stored), plus a `head` that holds everything else, small whatever the day's volume.
/// `head` followed by every segment from fill 0 up to `fillCount` is the whole checkpoint that
/// `Ledger.restore(from:)` reads.
public struct LedgerCheckpoint: Sendable {
    public var head: [UInt8]
    /// Fills the head stands on: the log's segments must cover exactly 0..<fillCount.
    public var fillCount: Int
    /// The fills from the `fillsFrom` asked for up to `fillCount`, cut at fill boundaries.
    public var segments: [FillLogSegment]
}

/// Consecutive fills of the log, by arrival: `first..<first + count`.
public struct FillLogSegment: Sendable, Equatable {
    public var first: Int
    public var count: Int
    public var bytes: [UInt8]
}

/// Layout (version 4): the head is magic "LWLG", version byte, day, fill count, the books in
/// registration order (account, instrument, method, SOD lots, open lots, totals), the fills
/// that are not live (arrival, status, qty, price, amendment), marks, trades, orders and
/// unclaimed order fills. The fill log follows: per fill its execId, source, book, side, qty,
/// price, time, day and orderId ("" for none), as it arrived. Integers are zigzag varints,
/// strings length-prefixed (see `CheckpointWriter`).
///
/// Why this shape: a checkpoint that re-encoded every fill cost ~110 µs of CPU per event at a
/// million fills and stored 36 MiB each time, and restoring it replayed every book (1.3 s). Here
/// a checkpoint costs what arrived since the last one, and a restore reads the books' lots and
/// totals as they were, deriving today's fill lists from the log (a fill's status and day say
/// whether it is listed; the list is ordered by (time, arrival)). Versions 2 and 3 are still
/// read (`CheckpointVersion3.swift`).
extension Ledger {
    static let checkpointVersion: UInt8 = 4

    /// The whole checkpoint in one blob: deterministic, the same state always encodes to the same bytes.
    public func encodeState() -> [UInt8] {
        let cut = checkpoint(fillsFrom: 0, segmentBytes: Int.max)
        var bytes = cut.head
        for segment in cut.segments { bytes.append(contentsOf: segment.bytes) }
        return bytes
    }

    /// The head, and the fills from `fillsFrom` (clamped to what the ledger holds) in segments of
    /// at most `segmentBytes` (a fill larger than that alone is a segment of its own).
    public func checkpoint(fillsFrom: Int, segmentBytes: Int) -> LedgerCheckpoint {
        let first = min(max(0, fillsFrom), entries.count)
        var segments: [FillLogSegment] = []
        var out = CheckpointWriter()
        var segmentStart = first
        for arrival in first..<entries.count {
            let entryStart = out.bytes.count
            writeLogEntry(arrival, original: entries[arrival].status == .live ? nil : amendments[Int32(arrival)], to: &out)
            if out.bytes.count > segmentBytes && entryStart > 0 {
                segments.append(FillLogSegment(first: segmentStart, count: arrival - segmentStart, bytes: Array(out.bytes[..<entryStart])))
                out.bytes.removeFirst(entryStart)
                segmentStart = arrival
            }
        }
        if segmentStart < entries.count {
            segments.append(FillLogSegment(first: segmentStart, count: entries.count - segmentStart, bytes: out.bytes))
        }
        return LedgerCheckpoint(head: encodeHead(), fillCount: entries.count, segments: segments)
    }

    /// A fill as it arrived (a correction's first qty and price): a stored segment never goes
    /// stale, the head carries what became of it.
    private func writeLogEntry(_ arrival: Int, original: Amendment?, to out: inout CheckpointWriter) {
        let entry = entries[arrival]
        out.bytes(execIds.bytes(at: arrival))
        out.string(sources[Int(entry.source)])
        out.count(Int(entry.book))
        out.byte(entry.side == .buy ? 0 : 1)
        out.signed(original?.originalQty ?? entry.qty)
        out.signed((original?.originalPrice ?? entry.price).units)
        out.signed(entry.time)
        out.signed(Int64(entry.day))
        out.string(entry.orderId ?? "")
    }

    private func encodeHead() -> [UInt8] {
        var out = CheckpointWriter()
        out.bytes.append(contentsOf: checkpointMagic)
        out.byte(Ledger.checkpointVersion)
        out.signed(Int64(day))
        out.count(entries.count)

        out.count(books.count)
        for book in books {
            out.string(book.account)
            out.string(book.instrument)
            out.byte(Ledger.methodCode(book.method))
            out.lots(book.sodLots[...])
            out.lots(book.lots[book.head...])
            out.signed(book.totals.openQty)
            out.signed(book.totals.openCost)
            out.signed(book.totals.realizedUnits)
            out.signed(book.totals.bought)
            out.signed(book.totals.sold)
            out.optional(book.totals.lastFillTime)
        }

        // Every fill that is not live has an amendment (see `store`), so these are all of them.
        let amended = amendments.keys.sorted()
        out.count(amended.count)
        for arrival in amended {
            let entry = entries[Int(arrival)]
            out.count(Int(arrival))
            out.byte(Ledger.statusCode(entry.status))
            out.signed(entry.qty)
            out.signed(entry.price.units)
            out.amendment(amendments[arrival])
        }
        writeMarksTradesAndOrders(to: &out)
        return out.bytes
    }

    /// Marks, last trades, orders and unclaimed order fills: the same in versions 3 and 4.
    private func writeMarksTradesAndOrders(to out: inout CheckpointWriter) {
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
    }

    /// A whole checkpoint: a version-4 head followed by its fill log (as `encodeState()` writes
    /// it, or as the journal joins a stored head and log segments), or a version 2/3 blob.
    public static func restore(from bytes: [UInt8], catalog: InstrumentCatalog, config: LedgerConfig) throws(CheckpointError) -> Ledger {
        var input = CheckpointReader(bytes)
        guard bytes.count >= 5, Array(bytes[0..<4]) == checkpointMagic else { throw .unreadable("not a ledger checkpoint") }
        input.offset = 4
        let version = try input.byte()
        switch version {
        case checkpointVersion: return try restoreVersion4(&input, catalog: catalog, config: config)
        case 2, 3: return try restoreVersion3(&input, version: version, catalog: catalog, config: config)
        default: throw .unsupportedVersion(Int(version))
        }
    }

    private static func restoreVersion4(_ input: inout CheckpointReader, catalog: InstrumentCatalog,
                                        config: LedgerConfig) throws(CheckpointError) -> Ledger {
        var ledger = Ledger(catalog: catalog, config: config)
        ledger.day = Int32(truncatingIfNeeded: try input.signed())
        let fillCount = try input.count()

        // Books keep their ids (registration order), which the fill log names them by.
        let bookCount = try input.count()
        for _ in 0..<bookCount {
            let (account, symbol, index, method) = try input.bookKey(catalog)
            let sodLots = try input.lots()
            let lots = try input.lots()
            var totals = BookTotals()
            totals.openQty = try input.signed()
            totals.openCost = try input.signed()
            totals.realizedUnits = try input.signed()
            totals.bought = try input.signed()
            totals.sold = try input.signed()
            totals.lastFillTime = try input.optional()
            guard method != .average || lots.isEmpty else { throw .inconsistent("average-cost book \(account)/\(symbol) has lots") }
            guard lots.reduce(Int64(0), { $0 &+ $1.qty }) == totals.openQty || method == .average else {
                throw .inconsistent("book \(account)/\(symbol): lots do not add up to the open quantity")
            }
            if ledger.accountIdByName[account] == nil { ledger.registerAccount(account) }
            let accountId = ledger.accountIdByName[account]!
            guard ledger.bookBySlot[Int(accountId) * catalog.all.count + index] < 0 else {
                throw .inconsistent("book \(account)/\(symbol) stored twice")
            }
            var book = Book(account: account, instrument: symbol, accountId: accountId, instrumentIndex: Int32(index), method: method)
            do { try book.setSODLots(sodLots) } catch { throw .inconsistent(error.message) }
            book.lots = lots
            book.totals = totals
            ledger.register(book)
        }

        struct Amended {
            var arrival: Int
            var status: FillStatus
            var qty: Int64
            var price: Price
            var amendment: Amendment
        }
        var amended: [Amended] = []
        for _ in 0..<(try input.count()) {
            let arrival = try input.unsigned()
            guard arrival < UInt64(fillCount) else { throw .inconsistent("amended fill \(arrival) is beyond the log") }
            guard let status = Ledger.status(code: try input.byte()), status != .live else { throw .unreadable("bad fill status") }
            let qty = try input.signed()
            let price = Price(units: try input.signed())
            amended.append(Amended(arrival: Int(arrival), status: status, qty: qty, price: price, amendment: try input.amendment()))
        }
        try ledger.readMarksTradesAndOrders(&input, withOrders: true)

        // The fill log. Today's fills are listed in their books as they come (reading the
        // entries back afterwards copied each one). Execids go from the bytes straight into the
        // index, and a source is looked up only when it differs from the previous fill's.
        ledger.reserveCapacity(fills: fillCount)
        var todays = [[(time: Int64, arrival: Int32)]](repeating: [], count: ledger.books.count)
        let busted = Set(amended.lazy.filter { $0.status == .busted }.map(\.arrival))
        var lastSource: (bytes: ArraySlice<UInt8>, id: Int32)?
        for arrival in 0..<fillCount {
            let execId = try input.stringBytes()
            guard ledger.execIds.append(bytes: execId) == nil else {
                throw .inconsistent("fill \(String(decoding: execId, as: UTF8.self)) stored twice")
            }
            let sourceBytes = try input.stringBytes()
            let source: Int32
            if let lastSource, lastSource.bytes.elementsEqual(sourceBytes) {
                source = lastSource.id
            } else {
                source = ledger.sourceId(String(decoding: sourceBytes, as: UTF8.self))
                lastSource = (sourceBytes, source)
            }
            // An index, not a count: `count()` would bound it by the bytes left, which the last
            // fills of a log do not have.
            let book = try input.unsigned()
            guard book < UInt64(ledger.books.count) else {
                throw .inconsistent("fill \(String(decoding: execId, as: UTF8.self)) names a missing book")
            }
            let side: Side = try input.byte() == 0 ? .buy : .sell
            let qty = try input.signed()
            guard qty > 0 else { throw .inconsistent("fill \(String(decoding: execId, as: UTF8.self)) has quantity \(qty)") }
            let price = Price(units: try input.signed())
            let time = try input.signed()
            let day = Int32(truncatingIfNeeded: try input.signed())
            let orderId = try input.string()
            ledger.entries.append(FillEntry(source: source, qty: qty, price: price, time: time,
                                            book: Int32(book), day: day, side: side, orderId: orderId.isEmpty ? nil : orderId))
            // Today's list of each book: its fills of this day that are not busted.
            if day == ledger.day, !busted.contains(arrival) { todays[Int(book)].append((time, Int32(arrival))) }
        }
        guard input.atEnd else { throw .unreadable("trailing bytes after the checkpoint") }
        for change in amended {
            ledger.entries[change.arrival].status = change.status
            ledger.entries[change.arrival].qty = change.qty
            ledger.entries[change.arrival].price = change.price
            ledger.amendments[Int32(change.arrival)] = change.amendment
        }

        // In (time, arrival) order, the order `apply` keeps them in.
        for (id, var fills) in todays.enumerated() where !fills.isEmpty {
            func precedes(_ a: (time: Int64, arrival: Int32), _ b: (time: Int64, arrival: Int32)) -> Bool {
                a.time < b.time || (a.time == b.time && a.arrival < b.arrival)
            }
            if !zip(fills, fills.dropFirst()).allSatisfy({ precedes($0, $1) }) { fills.sort(by: precedes) }
            ledger.books[id].lastListedTime = fills.last!.time
            ledger.books[id].fills = fills.map(\.arrival)
        }

        try ledger.rebuildLines()
        return ledger
    }

    /// Reads what `writeMarksTradesAndOrders` wrote (version 2 has no orders).
    mutating func readMarksTradesAndOrders(_ input: inout CheckpointReader, withOrders: Bool) throws(CheckpointError) {
        for _ in 0..<(try input.count()) {
            let symbol = try input.string()
            guard let index = catalog.index(of: symbol) else { throw .inconsistent("unknown instrument \(symbol)") }
            let price = Price(units: try input.signed())
            let time = try input.signed()
            let mark = MarkRecord(instrument: symbol, price: price, time: time, source: try input.string())
            markByInstrument[index] = mark
            markPrice[index] = price
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
            lastTrade[index] = try trade()
            carriedTrade[index] = try trade()
        }
        guard withOrders else { return }
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
            orders[orderId] = OrderRecord(orderId: orderId, account: account, instrument: symbol, side: side,
                                          price: price, qty: qty, leavesQty: leaves, filledQty: filled,
                                          status: status, version: orderVersion, time: time, source: try input.string())
        }
        for _ in 0..<(try input.count()) {
            let id = try input.string()
            unclaimedOrderFills[id] = try input.signed()
        }
    }

    /// Lines and totals from scratch: the placeholder lines are zero, so the rollup of every
    /// line against them is the full sum.
    mutating func rebuildLines() throws(CheckpointError) {
        do {
            var staged: [StagedLine] = []
            for (id, book) in books.enumerated() {
                let index = Int(book.instrumentIndex)
                let line = try makeLine(book, totals: book.totals, reference: reference(instrument: index, lastTrade: lastTrade[index]))
                staged.append(StagedLine(book: Int32(id), accountId: book.accountId, line: line))
            }
            let rolled = try rollup(&staged, newAccount: nil)
            _ = publish(first: nil, staged: staged, accounts: rolled.accounts, desk: rolled.desk)
        } catch {
            throw .inconsistent(error.message)
        }
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

extension CheckpointReader {
    /// A book's account, instrument (known to the catalog) and cost method, as every version
    /// writes them.
    mutating func bookKey(_ catalog: InstrumentCatalog) throws(CheckpointError)
        -> (account: String, symbol: String, instrument: Int, method: CostMethod) {
        let account = try string()
        let symbol = try string()
        guard let index = catalog.index(of: symbol) else { throw .inconsistent("unknown instrument \(symbol)") }
        guard let method = Ledger.method(code: try byte()) else { throw .unreadable("bad cost method") }
        return (account, symbol, index, method)
    }
}
