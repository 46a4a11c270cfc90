/// Incremental, fail-fast UTF-8 validation (RFC 3629) for text messages that arrive in pieces:
/// a code point may be split across fragments and across `feed` calls.
///
/// Each lead byte fixes how many continuation bytes follow and the allowed range of the first
/// one (Unicode Table 3-7), so overlongs (E0 80, F0 80), surrogates (ED A0–BF) and code points
/// above U+10FFFF (F4 90, F5–FF) fail at the first byte that makes them impossible.
public struct UTF8Validator: Sendable {
    /// Continuation bytes still expected.
    private var remaining = 0
    /// Range allowed for the next continuation byte.
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF
    private var failed = false

    public init() {}

    /// Validates the next bytes; false as soon as the input can no longer be valid UTF-8 (and
    /// from then on until `reset()`).
    public mutating func feed(_ bytes: some Collection<UInt8>) -> Bool {
        feed(Array(bytes)[...])
    }

    // Concrete overloads: the connection validates every text byte, so the loop must not run
    // through unspecialised Collection witnesses.
    public mutating func feed(_ bytes: [UInt8]) -> Bool { feed(bytes.span) }
    public mutating func feed(_ bytes: ArraySlice<UInt8>) -> Bool { feed(bytes.span) }

    mutating func feed(_ bytes: Span<UInt8>) -> Bool {
        if failed { return false }
        for index in bytes.indices {
            let byte = bytes[index]
            if remaining == 0 {
                if byte < 0x80 { continue }
                switch byte {
                case 0xC2...0xDF: remaining = 1; lower = 0x80; upper = 0xBF
                case 0xE0: remaining = 2; lower = 0xA0; upper = 0xBF
                case 0xE1...0xEC, 0xEE, 0xEF: remaining = 2; lower = 0x80; upper = 0xBF
                case 0xED: remaining = 2; lower = 0x80; upper = 0x9F
                case 0xF0: remaining = 3; lower = 0x90; upper = 0xBF
                case 0xF1...0xF3: remaining = 3; lower = 0x80; upper = 0xBF
                case 0xF4: remaining = 3; lower = 0x80; upper = 0x8F
                default: failed = true; return false
                }
            } else {
                guard byte >= lower && byte <= upper else { failed = true; return false }
                remaining -= 1
                lower = 0x80
                upper = 0xBF
            }
        }
        return true
    }

    /// True when the input so far is valid and does not end inside a code point.
    public var isComplete: Bool { !failed && remaining == 0 }

    public mutating func reset() { self = UTF8Validator() }
}
