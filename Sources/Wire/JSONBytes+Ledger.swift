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
}
