/// An exact decimal `units / 10^scale`, parsed from and printed as text. Used to scale TT prices
/// and walk the simulator's tick grid without ever passing a price through binary floating point.
public struct ScaledDecimal: Sendable, Equatable, CustomStringConvertible {
    public var units: Int64
    public var scale: Int

    public init(units: Int64, scale: Int) { self.units = units; self.scale = scale }

    /// Parses "-12.50", "110.265625", "7", "1.5e2" (JSON number text). nil if malformed or too large.
    public init?(_ text: String) {
        var mantissa = Substring(text), exponent = 0
        if let e = mantissa.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Int(mantissa[mantissa.index(after: e)...]), abs(value) < 40 else { return nil }
            exponent = value
            mantissa = mantissa[..<e]
        }
        var negative = false
        if mantissa.first == "-" { negative = true; mantissa = mantissa.dropFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              parts.count == 1 || !parts[1].isEmpty else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        var units: Int64 = 0
        for digit in parts[0] + fraction {
            let (shifted, o1) = units.multipliedReportingOverflow(by: 10)
            let (added, o2) = shifted.addingReportingOverflow(Int64(digit.wholeNumberValue!))
            guard !o1, !o2 else { return nil }
            units = added
        }
        var scale = fraction.count - exponent
        while scale < 0 {
            let (shifted, overflow) = units.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            units = shifted; scale += 1
        }
        self.init(units: negative ? -units : units, scale: scale)
        self = normalized
    }

    /// Trailing zeros removed (scale never below 0).
    public var normalized: ScaledDecimal {
        var result = self
        while result.scale > 0, result.units % 10 == 0 { result.units /= 10; result.scale -= 1 }
        return result
    }

    public var isInteger: Bool { normalized.scale == 0 }

    /// The value as an integer when it is one and fits.
    public var integerValue: Int64? { let n = normalized; return n.scale == 0 ? n.units : nil }

    /// Exact product, nil on overflow.
    public func multiplied(by other: ScaledDecimal) -> ScaledDecimal? {
        let (product, overflow) = units.multipliedReportingOverflow(by: other.units)
        guard !overflow else { return nil }
        return ScaledDecimal(units: product, scale: scale + other.scale).normalized
    }

    /// Exact product with an integer, nil on overflow.
    public func multiplied(by factor: Int64) -> ScaledDecimal? {
        multiplied(by: ScaledDecimal(units: factor, scale: 0))
    }

    /// Exact sum, nil on overflow.
    public func adding(_ other: ScaledDecimal) -> ScaledDecimal? {
        guard let (a, b) = ScaledDecimal.aligned(self, other) else { return nil }
        let (sum, overflow) = a.units.addingReportingOverflow(b.units)
        return overflow ? nil : ScaledDecimal(units: sum, scale: a.scale).normalized
    }

    /// `self / divisor` when it is a whole number (how many ticks a price is), else nil.
    public func wholeMultiple(of divisor: ScaledDecimal) -> Int64? {
        guard divisor.units != 0, let (a, b) = ScaledDecimal.aligned(self, divisor), a.units % b.units == 0 else { return nil }
        return a.units / b.units
    }

    public var description: String {
        let n = normalized
        guard n.scale > 0 else { return String(n.units) }
        let digits = String(n.units.magnitude)
        let padded = String(repeating: "0", count: max(0, n.scale + 1 - digits.count)) + digits
        let split = padded.index(padded.endIndex, offsetBy: -n.scale)
        return (n.units < 0 ? "-" : "") + padded[..<split] + "." + padded[split...]
    }

    private static func aligned(_ a: ScaledDecimal, _ b: ScaledDecimal) -> (ScaledDecimal, ScaledDecimal)? {
        var a = a, b = b
        while a.scale < b.scale {
            let (shifted, overflow) = a.units.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            a = ScaledDecimal(units: shifted, scale: a.scale + 1)
        }
        while b.scale < a.scale {
            let (shifted, overflow) = b.units.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            b = ScaledDecimal(units: shifted, scale: b.scale + 1)
        }
        return (a, b)
    }
}
