/// The JSON shape of one instrument in `config/instruments.json` (see docs/ledger.md):
/// `{"symbol":"ZNZ6","product":"ZN","description":"…","tick":"1/64","dollarsPerPoint":1000,
///   "format":"32nds","thirtySecondParts":2,"dv01":"72","tradingDayEnd":"17:00",
///   "priceBandTicks":400,"ttInstrumentId":"…","ttPriceScale":1}`
/// Decimal products use `"format":"decimal","places":2` and a decimal tick ("0.25").
extension Instrument: Codable {
    private enum Key: String, CodingKey {
        case symbol, product, description, tick, dollarsPerPoint, format, thirtySecondParts, places, dv01
        case tradingDayEnd, priceBandTicks, ttInstrumentId, ttPriceScale
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let symbol = try c.decode(String.self, forKey: .symbol)
        func invalid(_ why: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: .symbol, in: c, debugDescription: "\(symbol): \(why)")
        }
        let tickText = try c.decode(String.self, forKey: .tick)
        guard let tick = Instrument.parseTick(tickText), tick.units > 0 else {
            throw invalid("tick \"\(tickText)\" is not an exact positive fraction (\"1/64\") or decimal (\"0.25\")")
        }
        let dollarsPerPoint = try c.decode(Int64.self, forKey: .dollarsPerPoint)
        guard dollarsPerPoint > 0 else { throw invalid("dollarsPerPoint must be a positive integer") }
        let format = try c.decode(String.self, forKey: .format)
        let display: PriceDisplay
        switch format {
        case "32nds":
            let parts = try c.decodeIfPresent(Int.self, forKey: .thirtySecondParts) ?? 1
            guard [1, 2, 4, 8].contains(parts) else { throw invalid("thirtySecondParts must be 1, 2, 4 or 8") }
            // Every tick must be displayable: a whole number of 1/(32·parts).
            let displayUnit = Price.unitsPerPoint / Int64(32 * parts)
            guard tick.units % displayUnit == 0 else {
                throw invalid("tick \(tickText) is finer than the display (1/\(32 * parts) point)")
            }
            display = .thirtySeconds(parts: parts)
        case "decimal":
            let places = try c.decodeIfPresent(Int.self, forKey: .places) ?? 2
            guard (0...8).contains(places) else { throw invalid("places must be 0…8") }
            display = .decimal(places: places)
        default:
            throw invalid("format must be \"32nds\" or \"decimal\", got \"\(format)\"")
        }
        var dayEnd = 17 * 60
        if let text = try c.decodeIfPresent(String.self, forKey: .tradingDayEnd) {
            guard let minutes = Instrument.parseClock(text) else { throw invalid("tradingDayEnd must be HH:MM, got \"\(text)\"") }
            dayEnd = minutes
        }
        let band = try c.decodeIfPresent(Int64.self, forKey: .priceBandTicks)
        if let band, band <= 0 { throw invalid("priceBandTicks must be positive") }
        let scale = try c.decodeIfPresent(Int64.self, forKey: .ttPriceScale)
        if let scale, scale <= 0 { throw invalid("ttPriceScale must be positive") }
        self.init(symbol: symbol,
                  product: try c.decode(String.self, forKey: .product),
                  description: try c.decodeIfPresent(String.self, forKey: .description) ?? "",
                  tick: tick, dollarsPerPoint: dollarsPerPoint, display: display,
                  dv01: try c.decodeIfPresent(Money.self, forKey: .dv01),
                  tradingDayEndMinutes: dayEnd, priceBandTicks: band,
                  ttInstrumentId: try c.decodeIfPresent(String.self, forKey: .ttInstrumentId),
                  ttPriceScale: scale)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(symbol, forKey: .symbol)
        try c.encode(product, forKey: .product)
        try c.encode(description, forKey: .description)
        try c.encode(tickText, forKey: .tick)
        try c.encode(dollarsPerPoint, forKey: .dollarsPerPoint)
        switch display {
        case .thirtySeconds(let parts):
            try c.encode("32nds", forKey: .format)
            try c.encode(parts, forKey: .thirtySecondParts)
        case .decimal(let places):
            try c.encode("decimal", forKey: .format)
            try c.encode(places, forKey: .places)
        }
        try c.encodeIfPresent(dv01, forKey: .dv01)
        let hours = tradingDayEndMinutes / 60, minutes = tradingDayEndMinutes % 60
        try c.encode((hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)", forKey: .tradingDayEnd)
        try c.encodeIfPresent(priceBandTicks, forKey: .priceBandTicks)
        try c.encodeIfPresent(ttInstrumentId, forKey: .ttInstrumentId)
        try c.encodeIfPresent(ttPriceScale, forKey: .ttPriceScale)
    }

    /// "1/64" (power-of-two denominators up to 256, any numerator) or a decimal "0.25".
    static func parseTick(_ text: String) -> Price? {
        if let slash = text.firstIndex(of: "/") {
            guard let numerator = Int64(text[..<slash]), let denominator = Int64(text[text.index(after: slash)...]),
                  numerator > 0, denominator > 0, Price.unitsPerPoint % denominator == 0 else { return nil }
            let (units, overflow) = numerator.multipliedReportingOverflow(by: Price.unitsPerPoint / denominator)
            return overflow ? nil : Price(units: units)
        }
        return Price(decimal: text)
    }

    /// "17:00" → 1020.
    static func parseClock(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0...23).contains(hours), (0...59).contains(minutes) else { return nil }
        return hours * 60 + minutes
    }
}
