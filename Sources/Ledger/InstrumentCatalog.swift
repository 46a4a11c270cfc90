/// The instruments the ledger accepts, looked up by symbol or TT id.
public struct InstrumentCatalog: Sendable, Equatable {
    /// Sorted by symbol; an instrument's position here is its stable small index.
    public let all: [Instrument]
    private let indexBySymbol: [String: Int]
    private let indexByTTId: [String: Int]

    public init(instruments: [Instrument]) throws(CatalogError) {
        guard !instruments.isEmpty else { throw .empty }
        let sorted = instruments.sorted { $0.symbol < $1.symbol }
        var bySymbol: [String: Int] = [:]
        var byTTId: [String: Int] = [:]
        for (index, instrument) in sorted.enumerated() {
            guard !instrument.symbol.isEmpty else { throw .invalid("an instrument has an empty symbol") }
            guard instrument.tick.units > 0, instrument.dollarsPerPoint > 0 else {
                throw .invalid("\(instrument.symbol): tick and dollarsPerPoint must be positive")
            }
            if bySymbol.updateValue(index, forKey: instrument.symbol) != nil { throw .duplicateSymbol(instrument.symbol) }
            if let ttId = instrument.ttInstrumentId { byTTId[ttId] = index }
        }
        self.all = sorted
        self.indexBySymbol = bySymbol
        self.indexByTTId = byTTId
    }

    public subscript(symbol: String) -> Instrument? {
        indexBySymbol[symbol].map { all[$0] }
    }

    /// Producer price text for a symbol, with both ways to fail as ledger errors
    /// (`unknown_instrument`, `price_malformed`, `price_off_grid`, `price_ambiguous`).
    public func parsePrice(_ text: String, instrument symbol: String) throws(LedgerError) -> Price {
        guard let instrument = self[symbol] else { throw .unknownInstrument(symbol) }
        do { return try instrument.parsePrice(text) } catch { throw LedgerError(error) }
    }

    public func instrument(ttId: String) -> Instrument? {
        indexByTTId[ttId].map { all[$0] }
    }

    /// Stable index of a symbol in `all`. A desk's catalog is small: comparing a few short
    /// strings is cheaper than hashing one, so small catalogs are scanned.
    public func index(of symbol: String) -> Int? {
        if all.count <= 16 {
            for index in all.indices where all[index].symbol == symbol { return index }
            return nil
        }
        return indexBySymbol[symbol]
    }
}
