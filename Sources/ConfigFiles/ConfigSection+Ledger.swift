import JSON
import Ledger

/// Ledger values as the instruments and accounts files write them.
extension ConfigSection {
    /// Dollars: an exact decimal string ("250.5") or a JSON whole number of dollars (25000).
    /// Fractional JSON numbers are refused: they would pass through binary floating point
    /// in any other reader of the file.
    public func money(_ key: String) throws(ConfigError) -> Money? {
        guard let value = value(key) else { return nil }
        switch value {
        case .string(let text):
            guard let money = Money(decimal: text) else {
                throw ConfigError(path: keyPath(key), message: "not a decimal: \"\(text)\" (exact to 8 places)")
            }
            return money
        case .int, .number:
            guard let dollars = value.wholeNumber else {
                throw ConfigError(path: keyPath(key), message: "wrong type: expected a decimal string such as \"72.5\" or whole dollars, found \(value.serialized)")
            }
            let (units, overflow) = dollars.multipliedReportingOverflow(by: Money.unitsPerDollar)
            guard !overflow else { throw ConfigError(path: keyPath(key), message: "amount too large: \(dollars)") }
            return Money(units: units)
        default:
            throw wrongType(key, "a decimal string such as \"72.5\" or whole dollars", value)
        }
    }

    /// `"lifo"`, `"fifo"` or `"average"`.
    public func costMethod(_ key: String) throws(ConfigError) -> CostMethod? {
        try oneOf(key, CostMethod.allCases.map(\.rawValue)).flatMap(CostMethod.init(rawValue:))
    }
}
