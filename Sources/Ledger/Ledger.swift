import Bytes

/// A fill as stored, compact because there is one per fill ever applied: account and
/// instrument come from its book, the execId from `Ledger.execIds` (same arrival), the source
/// name from `Ledger.sources`; what busts and corrections add lives in `amendments`.
struct FillEntry: Sendable {
    /// Index into `Ledger.sources`.
    var source: Int32
    var qty: Int64
    var price: Price
    var time: Nanos
    var book: Int32
    /// The trading day (count of rolls) it belongs to.
    var day: Int32
    var side: Side
    var status: FillStatus
    var orderId: String?

    init(source: Int32, qty: Int64, price: Price, time: Nanos, book: Int32, day: Int32, side: Side,
         status: FillStatus = .live, orderId: String?) {
        self.source = source
        self.qty = qty
        self.price = price
        self.time = time
        self.book = book
        self.day = day
        self.side = side
        self.status = status
        self.orderId = orderId
    }

    init(_ fill: Fill, source: Int32, book: Int32, day: Int32, status: FillStatus = .live) {
        self.init(source: source, qty: fill.qty, price: fill.price, time: fill.time, book: book, day: day, side: fill.side,
                  status: status, orderId: fill.orderId)
    }
}

/// The rarely present parts of a fill record: first qty/price before a correction, and when.
struct Amendment: Sendable {
    var originalQty: Int64?
    var originalPrice: Price?
    var statusTime: Nanos?
}

/// The latest live fill of an instrument by (time, arrival): the second step of the mark waterfall.
struct LastTrade: Sendable, Equatable {
    var time: Nanos
    var arrival: Int32
    var price: Price
}

/// The numbers the hot path needs from an instrument, kept apart so `apply` never copies an
/// `Instrument` (five strings) per fill.
struct InstrumentFacts: Sendable {
    var tickUnits: Int64
    var dollarsPerPoint: Int64
    var dv01Units: Int64
    /// Band half-width in price units, nil without a band (or if it would overflow).
    var bandUnits: Int64?

    init(_ instrument: Instrument) {
        tickUnits = instrument.tick.units
        dollarsPerPoint = instrument.dollarsPerPoint
        dv01Units = instrument.dv01?.units ?? 0
        bandUnits = instrument.priceBandTicks.flatMap { ticks in
            let (width, overflow) = ticks.multipliedReportingOverflow(by: instrument.tick.units)
            return overflow ? nil : width
        }
    }
}

/// The price an instrument's positions are valued at before the per-book SOD fallback.
struct Reference: Equatable {
    var price: Price?
    var source: MarkSource
}

/// Positions, P&L and risk for the desk: pure, deterministic, no I/O, clocks or threads.
/// Every event goes through `apply`, which either changes the state and says exactly what
/// changed, or throws and changes nothing.
public struct Ledger: Sendable {
    public let catalog: InstrumentCatalog
    public let config: LedgerConfig
    let facts: [InstrumentFacts]

    /// Every fill ever applied, by arrival. Chunked (and the index sharded) so that a copy of the
    /// ledger — the checkpoint encoder's, a reader's — costs the writer one chunk and one shard
    /// on its next change, not the whole day's fills.
    var entries = ChunkedArray<FillEntry>()
    var amendments: [Int32: Amendment] = [:]
    /// Every fill's execId by arrival, and execId → arrival.
    var execIds = ExecIdIndex()
    /// The source names fills came with (a handful: producers and monitors), by `FillEntry.source`.
    var sources: [String] = []
    var sourceIds: [String: Int32] = [:]

    var accountNames: [String] = []
    var accountIdByName: [String: Int32] = [:]
    /// Account ids sorted by name.
    var accountOrder: [Int32] = []
    var accountTotals: [AccountTotals] = []

    var books: [Book] = []
    var lines: [PositionLine] = []
    /// accountId × instrument count + instrument index → book id, or -1.
    var bookBySlot: [Int32] = []
    /// Book ids sorted by (account, instrument).
    var bookOrder: [Int32] = []
    /// Per instrument, its book ids sorted by account.
    var booksByInstrument: [[Int32]]

    var deskTotals = DeskTotals()
    var markByInstrument: [MarkRecord?]
    /// The same marks' prices alone: the hot path reads these without copying a record's strings.
    var markPrice: [Price?]
    var lastTrade: [LastTrade?]
    /// The last trade from days already rolled, when today has none yet.
    var carriedTrade: [LastTrade?]
    /// Trading days rolled so far; fills of earlier days cannot be busted or corrected.
    var day: Int32 = 0
    /// Orders by id: working ones and those that ended today (dropped at the day roll).
    var orders: [String: OrderRecord] = [:]
    /// Σ qty of today's fills that named an order the ledger did not hold yet, by orderId: the
    /// order starts with them filled when it arrives (sources race: a fill may come first).
    var unclaimedOrderFills: [String: Int64] = [:]

    public init(catalog: InstrumentCatalog, config: LedgerConfig = LedgerConfig()) {
        self.catalog = catalog
        self.config = config
        let count = catalog.all.count
        facts = catalog.all.map(InstrumentFacts.init)
        booksByInstrument = Array(repeating: [], count: count)
        markByInstrument = Array(repeating: nil, count: count)
        markPrice = Array(repeating: nil, count: count)
        lastTrade = Array(repeating: nil, count: count)
        carriedTrade = Array(repeating: nil, count: count)
        deskTotals = DeskTotals(lossLimit: config.deskLossLimit)
    }

    /// Makes room for this many fills in total, so a server replaying a journal (or a benchmark)
    /// does not pay for repeated growth of the fill store and its index.
    public mutating func reserveCapacity(fills: Int) {
        entries.reserveCapacity(fills)
        execIds.reserveCapacity(fills)
    }

    // MARK: Reading

    public func fill(execId: String) -> FillRecord? {
        execIds.arrival(of: execId).map { record($0) }
    }

    /// Where fill `execId` arrived: 0 for the first fill ever applied, `fillCount - 1` for the
    /// latest (busted and corrected fills keep theirs). Nil for an execId the ledger never took.
    public func arrival(ofExecId execId: String) -> Int32? { execIds.arrival(of: execId) }

    /// The execId of the fill that arrived `arrival`-th (0 ..< `fillCount`).
    public func execId(arrival: Int32) -> String { execIds.execId(at: Int(arrival)) }

    /// Every account × instrument line, sorted by (account, instrument).
    public var positions: [PositionLine] { bookOrder.map { lines[Int($0)] } }

    public func position(account: String, instrument: String) -> PositionLine? {
        bookId(account: account, instrument: instrument).map { lines[Int($0)] }
    }

    /// The open lots of a book, oldest first (average cost: one lot at the rounded average).
    public func openLots(account: String, instrument: String) -> [Lot] {
        bookId(account: account, instrument: instrument).map { books[Int($0)].openLots } ?? []
    }

    /// Sorted by account.
    public var accounts: [AccountTotals] { accountOrder.map { accountTotals[Int($0)] } }

    public func account(_ name: String) -> AccountTotals? {
        accountIdByName[name].map { accountTotals[Int($0)] }
    }

    public var desk: DeskTotals { deskTotals }

    /// Latest mark per instrument, sorted by instrument.
    public var marks: [MarkRecord] { markByInstrument.compactMap { $0 } }

    /// The last `limit` fills in arrival order, newest last (busted and corrected included).
    public func recentFills(limit: Int) -> [FillRecord] {
        let count = min(max(0, limit), entries.count)
        return (entries.count - count..<entries.count).map { record(Int32($0)) }
    }

    /// Number of fills ever applied (including busted ones).
    public var fillCount: Int { entries.count }

    /// The fill as it stands now (current qty/price) with its status and amendments.
    func record(_ arrival: Int32) -> FillRecord {
        let entry = entries[Int(arrival)]
        let amendment = entry.status == .live ? nil : amendments[arrival]
        return FillRecord(fill: fill(arrival), status: entry.status, originalQty: amendment?.originalQty,
                          originalPrice: amendment?.originalPrice, statusTime: amendment?.statusTime)
    }

    /// The fill with its current qty and price.
    func fill(_ arrival: Int32) -> Fill {
        let entry = entries[Int(arrival)]
        let book = books[Int(entry.book)]
        return Fill(execId: execIds.execId(at: Int(arrival)), account: book.account, instrument: book.instrument, side: entry.side,
                    qty: entry.qty, price: entry.price, time: entry.time, source: sources[Int(entry.source)], orderId: entry.orderId)
    }

    /// The id of a source name, added on first use (only where the fill is sure to be stored).
    mutating func sourceId(_ name: String) -> Int32 {
        if let id = sourceIds[name] { return id }
        let id = Int32(sources.count)
        sources.append(name)
        sourceIds[name] = id
        return id
    }

    /// Stores a changed record (bust or correction) back into the compact form.
    mutating func store(_ record: FillRecord, at arrival: Int32) {
        entries[Int(arrival)].qty = record.fill.qty
        entries[Int(arrival)].price = record.fill.price
        entries[Int(arrival)].status = record.status
        // Every fill that is not live keeps an amendment, even an empty one: the checkpoint
        // finds the non-live fills through these keys instead of scanning the whole log.
        if record.status != .live {
            amendments[arrival] = Amendment(originalQty: record.originalQty, originalPrice: record.originalPrice,
                                            statusTime: record.statusTime)
        } else {
            amendments[arrival] = nil
        }
    }

    func bookId(account: String, instrument: String) -> Int32? {
        guard let accountId = accountIdByName[account], let instrumentIndex = catalog.index(of: instrument) else { return nil }
        let id = bookBySlot[Int(accountId) * catalog.all.count + instrumentIndex]
        return id >= 0 ? id : nil
    }

    func reference(instrument: Int, lastTrade trade: LastTrade?) -> Reference {
        if let price = markPrice[instrument] { return Reference(price: price, source: .mark) }
        if let trade { return Reference(price: trade.price, source: .lastFill) }
        return Reference(price: nil, source: .none)
    }
}
