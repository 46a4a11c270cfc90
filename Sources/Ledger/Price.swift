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

/// Encoded as the exact decimal string, so checkpoints and config stay readable and exact.
extension Price: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let price = Price(decimal: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an exact decimal price: \(text)")
        }
        self = price
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(decimalString)
    }
}
