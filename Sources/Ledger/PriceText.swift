/// Why price text was refused.
public enum PriceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a price in any accepted form ("abc", "", "110--08", "110-8", "110-32").
    case malformed(String)
    /// A real price, but not a whole number of the instrument's ticks ("110-08.25" for ZN).
    case offGrid(String)
    /// A fraction code that conventions disagree on ("102'304", "110-089"): refused rather than guessed.
    case ambiguous(String)

    public var description: String {
        switch self {
        case .malformed(let text): return "price \"\(text)\" is not a valid price"
        case .offGrid(let text): return "price \"\(text)\" is not on the instrument's tick grid"
        case .ambiguous(let text): return "price \"\(text)\" has an ambiguous fraction code"
        }
    }
}

/// 1/32 point and 1/256 point in price units.
private let unitsPer32nd: Int64 = Price.unitsPerPoint / 32
private let unitsPerEighthOf32nd: Int64 = unitsPer32nd / 8

/// The CME fraction code: third digit after the 32nds → eighths of a 32nd. 4 and 9 have no
/// meaning in the convention and are refused as ambiguous.
private let eighthsByCode: [UInt8: Int64] = [
    UInt8(ascii: "0"): 0, UInt8(ascii: "1"): 1, UInt8(ascii: "2"): 2, UInt8(ascii: "3"): 3,
    UInt8(ascii: "5"): 4, UInt8(ascii: "6"): 5, UInt8(ascii: "7"): 6, UInt8(ascii: "8"): 7,
]
private let codeByEighths: [Character] = ["0", "1", "2", "3", "5", "6", "7", "8"]

extension Instrument {
    /// Parses every accepted form (see docs/ledger.md):
    /// 32nds products: "110-08", "110'08", "110-080", "110'080", "110-08+", "110'08+", "110-085",
    /// "110'085", "110-08.5", "104-162", "104-16.25", "102'302", "102-30.125", "109'18", and the
    /// plain decimal "110.265625"; decimal products: "6012.25". A leading "-" (spreads) is allowed.
    public func parsePrice(_ text: String) throws(PriceError) -> Price {
        let bytes = Array(text.utf8)
        var start = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { start = 1 }
        guard start < bytes.count else { throw .malformed(text) }
        let separator = bytes[start...].firstIndex { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "'") }
        let units: Int64
        if let separator {
            guard case .thirtySeconds = display else { throw .malformed(text) }
            units = try Self.parseThirtySeconds(bytes, wholeRange: start..<separator, rest: separator + 1, text: text)
        } else {
            // No separator after the sign, so the rest holds no "-": a plain decimal.
            switch ExactDecimal.parse(Substring(text.utf8.dropFirst(start))) {
            case .success(let value): units = value
            case .failure(.tooPrecise): throw .offGrid(text)
            case .failure: throw .malformed(text)
            }
        }
        let price = Price(units: negative ? -units : units)
        guard isOnGrid(price) else { throw .offGrid(text) }
        return price
    }

    private static func parseThirtySeconds(_ bytes: [UInt8], wholeRange: Range<Int>, rest: Int, text: String) throws(PriceError) -> Int64 {
        func digit(_ byte: UInt8) -> Int64? {
            byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int64(byte - UInt8(ascii: "0")) : nil
        }
        guard !wholeRange.isEmpty, wholeRange.count <= 12 else { throw .malformed(text) }
        var whole: Int64 = 0
        for index in wholeRange {
            guard let d = digit(bytes[index]) else { throw .malformed(text) }
            whole = whole * 10 + d
        }
        // Exactly two digits of 32nds, 00–31.
        guard rest + 2 <= bytes.count, let tens = digit(bytes[rest]), let ones = digit(bytes[rest + 1]) else {
            throw .malformed(text)
        }
        let thirtySeconds = tens * 10 + ones
        guard thirtySeconds <= 31 else { throw .malformed(text) }
        let suffix = bytes[(rest + 2)...]
        var fractionUnits: Int64 = 0
        if suffix.isEmpty {
            fractionUnits = 0
        } else if suffix.count == 1, suffix.first == UInt8(ascii: "+") {
            fractionUnits = 4 * unitsPerEighthOf32nd
        } else if suffix.count == 1, let code = suffix.first {
            guard digit(code) != nil else { throw .malformed(text) }
            guard let eighths = eighthsByCode[code] else { throw .ambiguous(text) }
            fractionUnits = eighths * unitsPerEighthOf32nd
        } else if suffix.first == UInt8(ascii: ".") {
            // A decimal part of a 32nd ("08.5", "16.25", "30.125"): exact, else off grid.
            let digits = suffix.dropFirst()
            guard !digits.isEmpty, digits.count <= 9 else {
                if digits.isEmpty { throw .malformed(text) }
                throw .offGrid(text)
            }
            var numerator: Int64 = 0
            var denominator: Int64 = 1
            for byte in digits {
                guard let d = digit(byte) else { throw .malformed(text) }
                numerator = numerator * 10 + d
                denominator *= 10
            }
            let scaled = numerator * unitsPer32nd
            guard scaled % denominator == 0 else { throw .offGrid(text) }
            fractionUnits = scaled / denominator
        } else {
            throw .malformed(text)
        }
        let (wholeUnits, overflow) = whole.multipliedReportingOverflow(by: Price.unitsPerPoint)
        let (units, overflowFraction) = wholeUnits.addingReportingOverflow(thirtySeconds * unitsPer32nd + fractionUnits)
        guard !overflow, !overflowFraction else { throw .malformed(text) }
        return units
    }

    /// The price as text in a style. Decimal products always print with their fixed places.
    /// A price the display cannot show exactly (an average price between ticks) falls back to the
    /// eighth-of-a-32nd code, then to the exact decimal, so text is never rounded.
    public func format(_ price: Price, style: PriceStyle = .tt) -> String {
        switch display {
        case .decimal(let places):
            return ExactDecimal.format(price.units, fixed: places)
        case .thirtySeconds(let parts):
            if style == .decimal { return price.decimalString }
            let magnitude = price.units.magnitude
            let whole = magnitude / UInt64(Price.unitsPerPoint)
            let remainder = Int64(magnitude % UInt64(Price.unitsPerPoint))
            let thirtySeconds = remainder / unitsPer32nd
            let fraction = remainder % unitsPer32nd
            guard fraction % unitsPerEighthOf32nd == 0 else { return price.decimalString }
            let eighths = Int(fraction / unitsPerEighthOf32nd)
            let sign = price.units < 0 ? "-" : ""
            let twoDigits = (thirtySeconds < 10 ? "0" : "") + String(thirtySeconds)
            switch style {
            case .tt:
                if parts == 1 && eighths == 0 { return "\(sign)\(whole)'\(twoDigits)" }
                return "\(sign)\(whole)'\(twoDigits)\(codeByEighths[eighths])"
            case .cme:
                if eighths == 0 { return "\(sign)\(whole)-\(twoDigits)" }
                if eighths == 4 { return "\(sign)\(whole)-\(twoDigits)+" }
                return "\(sign)\(whole)-\(twoDigits)\(codeByEighths[eighths])"
            case .decimal:
                return price.decimalString
            }
        }
    }

    /// Exact decimal, trimmed: "110.265625", "110.5", "110".
    public func decimalString(_ price: Price) -> String { price.decimalString }
}
