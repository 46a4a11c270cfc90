import Foundation

/// Why a configuration file was refused; `description` names the file, field or value.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalid(String)
    case duplicateSymbol(String)
    case empty

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .invalid(let reason): return "invalid configuration: \(reason)"
        case .duplicateSymbol(let symbol): return "instrument \(symbol) is defined twice"
        case .empty: return "no instruments configured"
        }
    }
}

/// The instruments the ledger accepts, looked up by symbol or TT id.
public struct InstrumentCatalog: Sendable, Equatable {
    /// Sorted by symbol; an instrument's position here is its stable small index.
    public let all: [Instrument]
    private let indexBySymbol: [String: Int]
    private let indexByTTId: [String: Int]

    public init(instruments: [Instrument]) throws(ConfigError) {
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

    /// `{"instruments":[…]}` or a bare array of instruments.
    public init(json: Data) throws(ConfigError) {
        struct File: Decodable { var instruments: [Instrument] }
        let decoder = JSONDecoder()
        let instruments: [Instrument]
        do {
            if let file = try? decoder.decode(File.self, from: json) {
                instruments = file.instruments
            } else {
                instruments = try decoder.decode([Instrument].self, from: json)
            }
        } catch {
            // Decode again as the object form for the more useful message.
            do { _ = try decoder.decode(File.self, from: json) } catch let objectError {
                throw .invalid(Self.describe(objectError))
            }
            throw .invalid(Self.describe(error))
        }
        try self.init(instruments: instruments)
    }

    public static func load(path: String) throws(ConfigError) -> InstrumentCatalog {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(path: path, reason: String(describing: error))
        }
        return try InstrumentCatalog(json: data)
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

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.keyNotFound(let key, let context):
            return "missing field \"\(key.stringValue)\" at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: return String(describing: error)
        }
    }
}
