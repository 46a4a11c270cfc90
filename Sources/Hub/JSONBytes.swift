import Ledger

/// Compact JSON written straight into one byte array: the hot-path twin of `JSONValue.write`.
///
/// Every writer produces exactly the bytes `JSONValue.serialized` would for the same value
/// (tests compare them), without building a tree or appending to a `String`. Commas are placed
/// by the writer itself: a key or a value after a finished value gets one, so callers just list
/// fields and array items in order.
public struct JSONBytes: Sendable {
    public private(set) var bytes: [UInt8]
    /// True right after a value: the next key or array item needs a comma first.
    private var afterValue = false

    public init(reservingCapacity capacity: Int = 320) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: Structure

    public mutating func openObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        afterValue = false
    }

    public mutating func closeObject() {
        bytes.append(UInt8(ascii: "}"))
        afterValue = true
    }

    public mutating func openArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        afterValue = false
    }

    public mutating func closeArray() {
        bytes.append(UInt8(ascii: "]"))
        afterValue = true
    }

    /// `"key":` for a key known at compile time (no escaping needed, no allocation).
    public mutating func key(_ key: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterValue = false
    }

    /// `"key":` for a key only known at run time (escaped like any string). A separate label,
    /// because a literal would otherwise pick the `String` overload over the `StaticString` one.
    public mutating func key(escaping key: String) {
        separate()
        appendQuoted(key)
        bytes.append(UInt8(ascii: ":"))
        afterValue = false
    }

    // MARK: Values

    public mutating func string(_ text: String) {
        separate()
        appendQuoted(text)
        afterValue = true
    }

    public mutating func string(_ text: String?) {
        if let text { string(text) } else { null() }
    }

    /// A string value known at compile time that needs no escaping ("fill", "account").
    public mutating func string(static text: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        afterValue = true
    }

    public mutating func int(_ value: Int64) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
        afterValue = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        appendLiteral(value ? "true" : "false")
        afterValue = true
    }

    public mutating func null() {
        separate()
        appendLiteral("null")
        afterValue = true
    }

    /// `Money.decimalString`, quoted.
    public mutating func money(_ money: Money) {
        separate()
        appendQuotedDecimal(money.units)
        afterValue = true
    }

    public mutating func money(_ money: Money?) {
        if let money { self.money(money) } else { null() }
    }

    /// `Price.decimalString`, quoted.
    public mutating func price(_ price: Price) {
        separate()
        appendQuotedDecimal(price.units)
        afterValue = true
    }

    /// `isoString(nanos)`, quoted.
    public mutating func time(_ nanos: Nanos) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        appendISOTime(nanos)
        bytes.append(UInt8(ascii: "\""))
        afterValue = true
    }

    public mutating func time(_ nanos: Nanos?) {
        if let nanos { time(nanos) } else { null() }
    }

    /// Any tree (filters, monitors, the rare cold field), byte-identical to `JSONValue.serialized`.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .string(let text): string(text)
        case .int(let number): int(number)
        case .number(let text):
            separate()
            bytes.append(contentsOf: text.utf8)
            afterValue = true
        case .bool(let flag): bool(flag)
        case .null: null()
        case .array(let items):
            openArray()
            for item in items { self.value(item) }
            closeArray()
        case .object(let fields):
            openObject()
            for (name, item) in fields {
                key(escaping: name)
                self.value(item)
            }
            closeObject()
        }
    }

    // MARK: Bytes

    private mutating func separate() {
        if afterValue { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendLiteral(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Escapes exactly like `JSONValue.writeString`: `"`, `\`, and control bytes; everything
    /// else (multi-byte UTF-8 included) is copied as is.
    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Fast path: ids, symbols and prices never need escaping; scanning and copying the
        // contiguous UTF-8 is several times cheaper than going through the String's iterator.
        let copied = text.utf8.withContiguousStorageIfAvailable { utf8 in
            for byte in utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied != true {
            for byte in text.utf8 {
                switch byte {
                case 0x22: bytes.append(UInt8(ascii: "\\")); bytes.append(0x22)
                case 0x5C: bytes.append(UInt8(ascii: "\\")); bytes.append(0x5C)
                case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
                case 0..<0x20:
                    // \u00XX in lower-case hex, as String(_:radix:16) spells it.
                    appendLiteral("\\u00")
                    bytes.append(Self.hexDigit(byte >> 4))
                    bytes.append(Self.hexDigit(byte & 0x0F))
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// Decimal digits of `value`, most significant first.
    private mutating func appendDigits(_ value: UInt64) {
        appendDigits(value, count: 1)
    }

    /// The digits of `value`, zero-padded on the left to at least `count`. Digits are produced
    /// backwards into a fixed scratch (one division by the constant 10 each), then appended in
    /// order: no temporary array, no division by a variable power of ten.
    private mutating func appendDigits(_ value: UInt64, count: Int) {
        var scratch = InlineArray<20, UInt8>(repeating: UInt8(ascii: "0"))
        var first = 20
        var rest = value
        repeat {
            first -= 1
            scratch[first] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest > 0
        // UInt64 has at most 20 digits; widths asked for here are at most 8.
        first = min(first, 20 - count)
        for index in first..<20 { bytes.append(scratch[index]) }
    }

    /// `ExactDecimal.format` in bytes: sign, whole part, then the 1e-8 fraction with trailing
    /// zeros trimmed (no dot when it is zero). Works on the magnitude so Int64.min is fine.
    private mutating func appendQuotedDecimal(_ units: Int64) {
        bytes.append(UInt8(ascii: "\""))
        if units < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = units.magnitude
        appendDigits(magnitude / 100_000_000)
        var fraction = magnitude % 100_000_000
        if fraction != 0 {
            var digits = 8
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            bytes.append(UInt8(ascii: "."))
            appendDigits(fraction, count: digits)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `isoString(nanos)` in bytes: "2026-11-24T14:30:00.123Z", milliseconds truncated.
    private mutating func appendISOTime(_ nanos: Nanos) {
        let civil = UTCTime(nanos: nanos)
        appendPadded(civil.year, width: 4)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(civil.month, width: 2)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(civil.day, width: 2)
        bytes.append(UInt8(ascii: "T"))
        appendPadded(civil.hour, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(civil.minute, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(civil.second, width: 2)
        bytes.append(UInt8(ascii: "."))
        appendPadded(civil.millisecond, width: 3)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Like isoString's `pad`: zeros on the left up to `width`, never truncating. A negative
    /// value (a year before 0, unreachable from Int64 nanos) keeps isoString's spelling too.
    private mutating func appendPadded(_ value: Int64, width: Int) {
        if value < 0 {
            let text = String(value)
            if text.utf8.count < width { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - text.utf8.count)) }
            bytes.append(contentsOf: text.utf8)
            return
        }
        appendDigits(UInt64(value), count: width)
    }
}
