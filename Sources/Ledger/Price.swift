/// A price as an integer count of 1e-8 point: every 32nd fraction down to 1/256 (0.00390625) and
/// every decimal tick to 8 places is exact, so no price ever needs binary floating point.
public struct Price: Hashable, Comparable, Sendable {
    public var units: Int64
    public static let unitsPerPoint: Int64 = 100_000_000

    public init(units: Int64) { self.units = units }

    /// Whole points, e.g. `Price(points: 110)` (for literals: traps beyond ±92 billion points).
    public init(points: Int64) { self.units = points * Price.unitsPerPoint }

    /// Exact decimal text ("110.265625"); nil when malformed or finer than 1e-8.
    public init?(decimal text: String) {
        guard case .success(let units) = ExactDecimal.parse(text[...]) else { return nil }
        self.units = units
    }

    /// Exact decimal, trailing zeros trimmed: "110.265625", "110.5", "110".
    public var decimalString: String { ExactDecimal.format(units) }

    public static func < (lhs: Price, rhs: Price) -> Bool { lhs.units < rhs.units }
}

extension Price: CustomStringConvertible {
    public var description: String { decimalString }
}
