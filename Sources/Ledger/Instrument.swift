/// How an instrument's prices are written.
public enum PriceDisplay: Sendable, Equatable, Hashable {
    /// Points and 32nds; `parts` is how finely a 32nd is split on screen: 1 (ZB/UB whole 32nds),
    /// 2 (ZN/TN halves), 4 (ZF quarters), 8 (ZT eighths).
    case thirtySeconds(parts: Int)
    /// Plain decimal with a fixed number of places (ES: 2 → "6012.25").
    case decimal(places: Int)
}

/// Which textual convention `Instrument.format` produces.
public enum PriceStyle: String, Sendable, CaseIterable {
    /// Trading Technologies: apostrophe, two-digit 32nds, then one fraction code digit when the
    /// product splits 32nds: "110'085", "104'162", "102'302"; whole-32nd products "109'18".
    case tt
    /// CME/Bloomberg quote: dash, two-digit 32nds, "+" for a half, else the code digit:
    /// "110-08", "110-08+", "104-162", "104-16+", "102-301".
    case cme
    /// Exact decimal: "110.265625" (fixed places for decimal products: "6012.25").
    case decimal
}

/// One tradable contract and everything needed to price, display and risk it.
public struct Instrument: Sendable, Equatable, Hashable {
    public var symbol: String
    public var product: String
    public var description: String
    /// Minimum price increment of the outright.
    public var tick: Price
    /// Dollars per full point (ZN 1000, ZT 2000, ES 50): P&L = Δpoints × qty × this.
    public var dollarsPerPoint: Int64
    public var display: PriceDisplay
    /// Configured dollar value of one basis point per contract (approximate, from the desk);
    /// nil for products not risked in DV01 (equity index futures).
    public var dv01: Money?
    /// End of the trading day in minutes after midnight America/Chicago (17:00 = 1020).
    public var tradingDayEndMinutes: Int
    /// A fill or mark farther than this many ticks from the latest mark is refused.
    public var priceBandTicks: Int64?
    /// The instrument id in Trading Technologies, for the TT fill source.
    public var ttInstrumentId: String?
    /// TT's `lastPx` divided by this is the price in points (TT scales some products); 1 when nil.
    public var ttPriceScale: Int64?

    public init(symbol: String, product: String, description: String = "", tick: Price, dollarsPerPoint: Int64,
                display: PriceDisplay, dv01: Money? = nil, tradingDayEndMinutes: Int = 17 * 60,
                priceBandTicks: Int64? = nil, ttInstrumentId: String? = nil, ttPriceScale: Int64? = nil) {
        self.symbol = symbol
        self.product = product
        self.description = description
        self.tick = tick
        self.dollarsPerPoint = dollarsPerPoint
        self.display = display
        self.dv01 = dv01
        self.tradingDayEndMinutes = tradingDayEndMinutes
        self.priceBandTicks = priceBandTicks
        self.ttInstrumentId = ttInstrumentId
        self.ttPriceScale = ttPriceScale
    }

    /// True when the price is a whole number of ticks.
    public func isOnGrid(_ price: Price) -> Bool { tick.units > 0 && price.units % tick.units == 0 }

    /// The tick as text the way config writes it: "1/64" for 32nds products, "0.25" for decimal.
    public var tickText: String {
        if case .thirtySeconds = display {
            let denominator = Price.unitsPerPoint / tick.units
            if denominator * tick.units == Price.unitsPerPoint { return "1/\(denominator)" }
        }
        return tick.decimalString
    }

    /// A tick as config writes it: "1/64" (power-of-two denominators up to 256, any numerator)
    /// or a decimal "0.25"; nil when it is neither or not exact. The inverse of `tickText`.
    public static func parseTick(_ text: String) -> Price? {
        if let slash = text.firstIndex(of: "/") {
            guard let numerator = Int64(text[..<slash]), let denominator = Int64(text[text.index(after: slash)...]),
                  numerator > 0, denominator > 0, Price.unitsPerPoint % denominator == 0 else { return nil }
            let (units, overflow) = numerator.multipliedReportingOverflow(by: Price.unitsPerPoint / denominator)
            return overflow ? nil : Price(units: units)
        }
        return Price(decimal: text)
    }

    /// TT's `lastPx` text (a decimal) to a price, through `ttPriceScale`; exact or an error.
    public func priceFromTT(_ text: String) throws(PriceError) -> Price {
        guard case .success(let scaled) = ExactDecimal.parse(text[...]) else { throw .malformed(text) }
        let scale = ttPriceScale ?? 1
        guard scale > 0, scaled % scale == 0 else { throw .offGrid(text) }
        let price = Price(units: scaled / scale)
        guard isOnGrid(price) else { throw .offGrid(text) }
        return price
    }
}
