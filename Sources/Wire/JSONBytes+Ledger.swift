import JSON
import Ledger

/// The ledger's exact values in the byte writer: `Money.decimalString` and `Price.decimalString`,
/// quoted, without building a `String`.
extension JSONBytes {
    public mutating func money(_ money: Money) {
        quotedDecimal8(money.units)
    }

    public mutating func money(_ money: Money?) {
        if let money { quotedDecimal8(money.units) } else { null() }
    }

    public mutating func price(_ price: Price) {
        quotedDecimal8(price.units)
    }

    /// `Instrument.format(price, style: .tt)` for an instrument of this display, quoted, written without a `String` ("110'185",
    /// "6012.50"): every position carries two of these, and formatting them as `String`s was the
    /// largest single cost of a position message. Tests compare it with `format` over every
    /// display and random prices, on and off the grid.
    public mutating func priceText(_ price: Price, display: PriceDisplay) {
        switch display {
        case .decimal(let places):
            // The exact decimal, padded with zeros to `places` ("6012.50").
            quotedDecimal8(price.units, minimumFractionDigits: places)
        case .thirtySeconds(let parts):
            let unitsPerPoint = UInt64(Price.unitsPerPoint)
            let unitsPer32nd = unitsPerPoint / 32
            let unitsPerEighth = unitsPer32nd / 8
            let magnitude = price.units.magnitude
            let remainder = magnitude % unitsPerPoint
            let fraction = remainder % unitsPer32nd
            // Between eighths of a 32nd (an average price): the exact decimal, never rounded.
            guard fraction % unitsPerEighth == 0 else { return quotedDecimal8(price.units) }
            let eighths = Int(fraction / unitsPerEighth)
            beginString()
            if price.units < 0 { stringCharacter(UInt8(ascii: "-")) }
            stringDigits(magnitude / unitsPerPoint)
            stringCharacter(UInt8(ascii: "'"))
            stringDigits(remainder / unitsPer32nd, minimumCount: 2)
            // The CME code of the eighth: 0 1 2 3 5 6 7 8 (no 4 or 9); left off for whole 32nds
            // when the display has no parts.
            if !(parts == 1 && eighths == 0) {
                stringCharacter(UInt8(ascii: "0") + UInt8(eighths < 4 ? eighths : eighths + 1))
            }
            endString()
        }
    }
}
