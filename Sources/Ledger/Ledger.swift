/// A fill as stored: its record, its book and the trading day it belongs to.
struct FillEntry: Sendable {
    var record: FillRecord
    var book: Int32
    var day: Int32
}

/// The latest live fill of an instrument by (time, arrival): the second step of the mark waterfall.
struct LastTrade: Sendable, Equatable {
    var time: Nanos
    var arrival: Int32
    var price: Price
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

    var entries: [FillEntry] = []
    var entryByExecId: [String: Int32] = [:]

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
    var lastTrade: [LastTrade?]
    /// The last trade from days already rolled, when today has none yet.
    var carriedTrade: [LastTrade?]
    /// Trading days rolled so far; fills of earlier days cannot be busted or corrected.
    var day: Int32 = 0

    public init(catalog: InstrumentCatalog, config: LedgerConfig = LedgerConfig()) {
        self.catalog = catalog
        self.config = config
        let count = catalog.all.count
        booksByInstrument = Array(repeating: [], count: count)
        markByInstrument = Array(repeating: nil, count: count)
        lastTrade = Array(repeating: nil, count: count)
        carriedTrade = Array(repeating: nil, count: count)
    }

    // MARK: Reading

    public func fill(execId: String) -> FillRecord? {
        entryByExecId[execId].map { entries[Int($0)].record }
    }

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
        entries.suffix(max(0, limit)).map(\.record)
    }

    /// Number of fills ever applied (including busted ones).
    public var fillCount: Int { entries.count }

    func bookId(account: String, instrument: String) -> Int32? {
        guard let accountId = accountIdByName[account], let instrumentIndex = catalog.index(of: instrument) else { return nil }
        let id = bookBySlot[Int(accountId) * catalog.all.count + instrumentIndex]
        return id >= 0 ? id : nil
    }

    func reference(instrument: Int, lastTrade trade: LastTrade?) -> Reference {
        if let mark = markByInstrument[instrument] { return Reference(price: mark.price, source: .mark) }
        if let trade { return Reference(price: trade.price, source: .lastFill) }
        return Reference(price: nil, source: .none)
    }
}
