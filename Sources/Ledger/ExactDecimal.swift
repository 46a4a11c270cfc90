/// Fixed-point decimal text with 8 places, shared by `Price` (1e-8 point) and `Money` (1e-8 dollar).
/// Hand-written so no value ever passes through binary floating point.
enum ExactDecimal {
    static let places = 8
    static let scale: Int64 = 100_000_000

    /// "484.375", "-203.125", "0", "1000": trailing zeros trimmed, no exponent.
    static func format(_ units: Int64) -> String {
        let negative = units < 0
        // magnitude as UInt64 so Int64.min does not trap
        let magnitude = units.magnitude
        let whole = magnitude / UInt64(scale)
        var fraction = magnitude % UInt64(scale)
        var text = negative ? "-" : ""
        text += String(whole)
        if fraction != 0 {
            var digits = places
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            let raw = String(fraction)
            text += "." + String(repeating: "0", count: digits - raw.count) + raw
        }
        return text
    }

    /// Same as `format` but always with exactly `fixed` fraction digits (for decimal-priced
    /// instruments whose display is "6012.25" / "6012.00"); falls back to the exact form when
    /// the value needs more digits than `fixed`.
    static func format(_ units: Int64, fixed: Int) -> String {
        let exact = format(units)
        let dot = exact.firstIndex(of: ".")
        let have = dot.map { exact.distance(from: $0, to: exact.endIndex) - 1 } ?? 0
        if have >= fixed { return exact }
        if fixed == 0 { return exact }
        return exact + (dot == nil ? "." : "") + String(repeating: "0", count: fixed - have)
    }

    enum ParseFailure: Error { case malformed, tooPrecise, overflow }

    /// Parses "-12.5", "110.265625", "7" into 1e-8 units. More than 8 significant fraction digits
    /// is `tooPrecise` (not representable), trailing zeros beyond 8 places are fine.
    static func parse(_ text: Substring) -> Result<Int64, ParseFailure> {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; bytes = bytes.dropFirst() }
        guard !bytes.isEmpty else { return .failure(.malformed) }
        // Magnitudes in UInt64 so Int64.min round-trips.
        var whole: UInt64 = 0
        var fraction: UInt64 = 0
        var fractionDigits = 0
        var seenDot = false
        var wholeDigits = 0
        var tooPrecise = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                if seenDot { return .failure(.malformed) }
                seenDot = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return .failure(.malformed) }
            let digit = UInt64(byte - UInt8(ascii: "0"))
            if seenDot {
                if fractionDigits < places {
                    fraction = fraction * 10 + digit
                    fractionDigits += 1
                } else if digit != 0 {
                    tooPrecise = true
                }
            } else {
                let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(digit)
                if o1 || o2 { return .failure(.overflow) }
                whole = next
                wholeDigits += 1
            }
        }
        guard wholeDigits > 0, !(seenDot && fractionDigits == 0) else { return .failure(.malformed) }
        if tooPrecise { return .failure(.tooPrecise) }
        for _ in fractionDigits..<places { fraction *= 10 }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: UInt64(scale))
        let (magnitude, o2) = scaled.addingReportingOverflow(fraction)
        if o1 || o2 { return .failure(.overflow) }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return .failure(.overflow) }
            return .success(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
        }
        guard magnitude <= UInt64(Int64.max) else { return .failure(.overflow) }
        return .success(Int64(magnitude))
    }
}
