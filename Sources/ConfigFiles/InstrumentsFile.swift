import JSON
import Ledger

/// `config/instruments.json` (see docs/ledger.md): `{"instruments":[…]}` or a bare array of
///
///     {"symbol":"ZNZ6","product":"ZN","description":"…","tick":"1/64","dollarsPerPoint":1000,
///      "format":"32nds","thirtySecondParts":2,"dv01":"72","tradingDayEnd":"17:00",
///      "priceBandTicks":320,"ttInstrumentId":"…","ttPriceScale":1}
///
/// Decimal products use `"format":"decimal","places":2` and a decimal tick ("0.25"). Keys the
/// reader does not know are ignored and `null` means absent, as they always have been for this
/// file; every error names the file and the key path (`instruments[3].tick`).
public enum InstrumentsFile {
    public static func load(path: String) throws(ConfigError) -> InstrumentCatalog {
        try parse(TextFile.read(path), file: path)
    }

    /// `file` only names the source in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> InstrumentCatalog {
        let json = try ConfigJSON.parse(text, file: file)
        do { return try catalog(json) } catch { throw error.inFile(file) }
    }

    static func catalog(_ json: JSONValue) throws(ConfigError) -> InstrumentCatalog {
        let entries: [ConfigSection]
        switch json {
        case .array(let items):
            entries = try ConfigSection.sections(items, path: "", nullMeansAbsent: true)
        case .object:
            let root = try ConfigSection(json, path: "", nullMeansAbsent: true)
            entries = try root.required("instruments", root.sections)
        default:
            throw ConfigError(path: "", message: "wrong type: expected {\"instruments\": [...]} or an array of instruments, found \(json.kindName)")
        }
        guard !entries.isEmpty else {
            throw ConfigError(path: json.isArray ? "" : "instruments", message: "no instruments configured")
        }
        var instruments: [Instrument] = []
        var pathBySymbol: [String: String] = [:]
        for entry in entries {
            let instrument = try self.instrument(entry)
            if let first = pathBySymbol.updateValue(entry.path, forKey: instrument.symbol) {
                throw ConfigError(path: entry.keyPath("symbol"), message: "instrument \(instrument.symbol) is defined twice (also \(first))")
            }
            instruments.append(instrument)
        }
        do { return try InstrumentCatalog(instruments: instruments) } catch {
            // Each entry was checked above, so this is a catalog rule the reader does not know yet.
            throw ConfigError(path: json.isArray ? "" : "instruments", message: error.description)
        }
    }

    public static func instrument(_ entry: ConfigSection) throws(ConfigError) -> Instrument {
        let symbol = try entry.required("symbol", entry.nonEmptyString)
        let product = try entry.required("product", entry.string)
        let tickText = try entry.required("tick", entry.string)
        guard let tick = Instrument.parseTick(tickText), tick.units > 0 else {
            throw ConfigError(path: entry.keyPath("tick"),
                              message: "not a tick: \"\(tickText)\" (expected an exact positive fraction such as \"1/64\" or a decimal such as \"0.25\")")
        }
        let dollarsPerPoint = try entry.required("dollarsPerPoint", entry.positiveInteger)
        let display: PriceDisplay
        switch try entry.required("format", { (key) throws(ConfigError) in try entry.oneOf(key, ["32nds", "decimal"]) }) {
        case "32nds":
            let parts = try entry.integer("thirtySecondParts", in: Int.min...Int.max) ?? 1
            guard [1, 2, 4, 8].contains(parts) else {
                throw ConfigError(path: entry.keyPath("thirtySecondParts"), message: "must be 1, 2, 4 or 8, got \(parts)")
            }
            // Every tick must be displayable: a whole number of 1/(32·parts) point.
            guard tick.units % (Price.unitsPerPoint / Int64(32 * parts)) == 0 else {
                throw ConfigError(path: entry.keyPath("tick"), message: "\(tickText) is finer than the display (1/\(32 * parts) point)")
            }
            display = .thirtySeconds(parts: parts)
        default:
            display = .decimal(places: try entry.integer("places", in: 0...8) ?? 2)
        }
        var dayEnd = 17 * 60
        if let text = try entry.string("tradingDayEnd") {
            guard let minutes = minutesAfterMidnight(text) else {
                throw ConfigError(path: entry.keyPath("tradingDayEnd"), message: "not a time of day: \"\(text)\" (expected HH:MM, such as \"17:00\")")
            }
            dayEnd = minutes
        }
        return Instrument(symbol: symbol, product: product, description: try entry.string("description") ?? "",
                          tick: tick, dollarsPerPoint: dollarsPerPoint, display: display,
                          dv01: try entry.money("dv01"), tradingDayEndMinutes: dayEnd,
                          priceBandTicks: try entry.positiveInteger("priceBandTicks"),
                          ttInstrumentId: try entry.string("ttInstrumentId"),
                          ttPriceScale: try entry.positiveInteger("ttPriceScale"))
    }

    /// "17:00" → 1020; two digits each, 00:00…23:59.
    static func minutesAfterMidnight(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0...23).contains(hours), (0...59).contains(minutes) else { return nil }
        return hours * 60 + minutes
    }
}

private extension JSONValue {
    var isArray: Bool { if case .array = self { return true }; return false }
}
