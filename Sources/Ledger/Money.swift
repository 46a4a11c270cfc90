/// Dollars as an integer count of 1e-8 dollar. P&L is Δprice.units × qty × dollarsPerPoint, an
/// exact integer in these units, so totals never drift.
public struct Money: Hashable, Comparable, Sendable {
    public var units: Int64
    public static let unitsPerDollar: Int64 = 100_000_000
    public static let zero = Money(units: 0)

    public init(units: Int64) { self.units = units }

    /// Whole dollars, e.g. `Money(dollars: 5000)` (for literals: traps beyond ±92 billion dollars).
    public init(dollars: Int64) { self.units = dollars * Money.unitsPerDollar }

    /// Exact decimal dollars ("484.375", "-203.125"); nil when malformed or finer than 1e-8.
    public init?(decimal text: String) {
        guard case .success(let units) = ExactDecimal.parse(text[...]) else { return nil }
        self.units = units
    }

    /// Exact decimal, trailing zeros trimmed, no exponent: "484.375", "-203.125", "0", "1000".
    public var decimalString: String { ExactDecimal.format(units) }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.units < rhs.units }

    /// Overflow becomes a typed error instead of a trap.
    public func adding(_ other: Money) throws(LedgerError) -> Money {
        let (sum, overflow) = units.addingReportingOverflow(other.units)
        if overflow { throw .overflow }
        return Money(units: sum)
    }

    public func subtracting(_ other: Money) throws(LedgerError) -> Money {
        let (difference, overflow) = units.subtractingReportingOverflow(other.units)
        if overflow { throw .overflow }
        return Money(units: difference)
    }
}

extension Money: CustomStringConvertible {
    public var description: String { decimalString }
}

/// Checked integer steps used by P&L arithmetic: overflow is `LedgerError.overflow`, never a trap.
@inline(__always) func checkedMultiply(_ a: Int64, _ b: Int64) throws(LedgerError) -> Int64 {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    if overflow { throw .overflow }
    return product
}

@inline(__always) func checkedAdd(_ a: Int64, _ b: Int64) throws(LedgerError) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    if overflow { throw .overflow }
    return sum
}

@inline(__always) func checkedSubtract(_ a: Int64, _ b: Int64) throws(LedgerError) -> Int64 {
    let (difference, overflow) = a.subtractingReportingOverflow(b)
    if overflow { throw .overflow }
    return difference
}
