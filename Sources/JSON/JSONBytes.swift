import Bytes

/// Compact JSON written straight into one byte array: the hot-path twin of `JSONValue.write`.
///
/// Every writer produces exactly the bytes `JSONValue.serialized` would for the same value
/// (tests compare them), without building a tree or appending to a `String`. Commas are placed
/// by the writer itself: a key or a value after a finished value gets one, so callers just list
/// fields and array items in order.
///
/// Each token (a key with its comma, quotes and colon; a number; a quoted decimal) is written
/// through one `OutputSpan`: one capacity and uniqueness check per token instead of one per
/// byte, and still bounds-checked, safe code.
public struct JSONBytes: Sendable {
    public private(set) var bytes: [UInt8]
    /// True right after a value: the next key or array item needs a comma first.
    private var afterValue = false

    public init(reservingCapacity capacity: Int = 320) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: Structure

    public mutating func openObject() { open(UInt8(ascii: "{")) }
    public mutating func closeObject() { close(UInt8(ascii: "}")) }
    public mutating func openArray() { open(UInt8(ascii: "[")) }
    public mutating func closeArray() { close(UInt8(ascii: "]")) }

    /// `"key":` for a key known at compile time (no escaping needed, no allocation).
    public mutating func key(_ key: StaticString) {
        let comma = afterValue
        afterValue = false
        key.withUTF8Buffer { utf8 in
            write(upTo: utf8.count + 4) { span in
                if comma { span.append(UInt8(ascii: ",")) }
                span.append(UInt8(ascii: "\""))
                for byte in utf8 { span.append(byte) }
                span.append(UInt8(ascii: "\""))
                span.append(UInt8(ascii: ":"))
            }
        }
    }

    /// `"key":` for a key only known at run time (escaped like any string). A separate label,
    /// because a literal would otherwise pick the `String` overload over the `StaticString` one.
    public mutating func key(escaping key: String) {
        string(key)
        bytes.append(UInt8(ascii: ":"))
        afterValue = false
    }

    // MARK: Values

    public mutating func string(_ text: String) {
        let comma = afterValue
        afterValue = true
        // Fast path: ids, symbols and prices never need escaping; scanning and copying the
        // contiguous UTF-8 is several times cheaper than going through the String's iterator.
        let copied = text.utf8.withContiguousStorageIfAvailable { utf8 in
            for byte in utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C { return false }
            write(upTo: utf8.count + 3) { span in
                if comma { span.append(UInt8(ascii: ",")) }
                span.append(UInt8(ascii: "\""))
                for byte in utf8 { span.append(byte) }
                span.append(UInt8(ascii: "\""))
            }
            return true
        }
        if copied != true {
            if comma { bytes.append(UInt8(ascii: ",")) }
            appendEscaped(text)
        }
    }

    public mutating func string(_ text: String?) {
        if let text { string(text) } else { null() }
    }

    /// A string value known at compile time that needs no escaping ("fill", "account").
    public mutating func string(static text: StaticString) {
        let comma = afterValue
        afterValue = true
        text.withUTF8Buffer { utf8 in
            write(upTo: utf8.count + 3) { span in
                if comma { span.append(UInt8(ascii: ",")) }
                span.append(UInt8(ascii: "\""))
                for byte in utf8 { span.append(byte) }
                span.append(UInt8(ascii: "\""))
            }
        }
    }

    public mutating func int(_ value: Int64) {
        let comma = afterValue
        afterValue = true
        write(upTo: 22) { span in
            if comma { span.append(UInt8(ascii: ",")) }
            if value < 0 { span.append(UInt8(ascii: "-")) }
            Self.digits(value.magnitude, into: &span)
        }
    }

    public mutating func bool(_ value: Bool) {
        literal(value ? "true" : "false")
    }

    public mutating func null() {
        literal("null")
    }

    /// `isoString(nanos)`, quoted: "2026-11-24T14:30:00.123Z", milliseconds truncated.
    public mutating func time(_ nanos: Nanos) {
        let comma = afterValue
        afterValue = true
        let civil = UTCFields(nanos: nanos)
        // Years of Int64 nanos are 1677…2262: four digits, like isoString's padding.
        write(upTo: 27) { span in
            if comma { span.append(UInt8(ascii: ",")) }
            span.append(UInt8(ascii: "\""))
            Self.digits(UInt64(civil.year), minimumCount: 4, into: &span)
            span.append(UInt8(ascii: "-"))
            Self.digits(UInt64(civil.month), minimumCount: 2, into: &span)
            span.append(UInt8(ascii: "-"))
            Self.digits(UInt64(civil.day), minimumCount: 2, into: &span)
            span.append(UInt8(ascii: "T"))
            Self.digits(UInt64(civil.hour), minimumCount: 2, into: &span)
            span.append(UInt8(ascii: ":"))
            Self.digits(UInt64(civil.minute), minimumCount: 2, into: &span)
            span.append(UInt8(ascii: ":"))
            Self.digits(UInt64(civil.second), minimumCount: 2, into: &span)
            span.append(UInt8(ascii: "."))
            Self.digits(UInt64(civil.millisecond), minimumCount: 3, into: &span)
            span.append(UInt8(ascii: "Z"))
            span.append(UInt8(ascii: "\""))
        }
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
            if afterValue { bytes.append(UInt8(ascii: ",")) }
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

    /// Appends at most `count` bytes through one span. Grows geometrically, so a snapshot built
    /// from thousands of tokens is not reallocated token by token.
    private mutating func write(upTo count: Int, _ body: (inout OutputSpan<UInt8>) -> Void) {
        if bytes.capacity - bytes.count < count {
            bytes.reserveCapacity(Swift.max(bytes.capacity * 2, bytes.count + count))
        }
        bytes.append(addingCapacity: count, initializingWith: body)
    }

    private mutating func open(_ bracket: UInt8) {
        if afterValue { bytes.append(UInt8(ascii: ",")) }
        bytes.append(bracket)
        afterValue = false
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        afterValue = true
    }

    private mutating func literal(_ text: StaticString) {
        let comma = afterValue
        afterValue = true
        text.withUTF8Buffer { utf8 in
            write(upTo: utf8.count + 1) { span in
                if comma { span.append(UInt8(ascii: ",")) }
                for byte in utf8 { span.append(byte) }
            }
        }
    }

    /// A quoted fixed-point number of 1e-8 units (the ledger's prices and money): sign, whole part, then the 1e-8 fraction with trailing
    /// zeros trimmed (no dot when it is zero). Works on the magnitude so Int64.min is fine.
    public mutating func quotedDecimal8(_ units: Int64) {
        let comma = afterValue
        afterValue = true
        let magnitude = units.magnitude
        var fraction = magnitude % 100_000_000
        var fractionDigits = 8
        if fraction != 0 {
            while fraction % 10 == 0 { fraction /= 10; fractionDigits -= 1 }
        }
        write(upTo: 33) { span in
            if comma { span.append(UInt8(ascii: ",")) }
            span.append(UInt8(ascii: "\""))
            if units < 0 { span.append(UInt8(ascii: "-")) }
            Self.digits(magnitude / 100_000_000, into: &span)
            if fraction != 0 {
                span.append(UInt8(ascii: "."))
                Self.digits(fraction, minimumCount: fractionDigits, into: &span)
            }
            span.append(UInt8(ascii: "\""))
        }
    }

    /// The digits of `value`, zero-padded on the left to at least `minimumCount` (≤ 20).
    /// Produced backwards into a fixed scratch (one division by the constant 10 each), then
    /// copied in order.
    private static func digits(_ value: UInt64, minimumCount: Int = 1, into span: inout OutputSpan<UInt8>) {
        var scratch = InlineArray<20, UInt8>(repeating: UInt8(ascii: "0"))
        var first = 20
        var rest = value
        repeat {
            first -= 1
            scratch[first] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest > 0
        first = Swift.min(first, 20 - minimumCount)
        for index in first..<20 { span.append(scratch[index]) }
    }

    /// The slow path of `string`: escapes exactly like `JSONValue.writeString` (`"`, `\`, and
    /// control bytes; everything else, multi-byte UTF-8 included, is copied as is).
    private mutating func appendEscaped(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case 0x22: bytes.append(UInt8(ascii: "\\")); bytes.append(0x22)
            case 0x5C: bytes.append(UInt8(ascii: "\\")); bytes.append(0x5C)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                // \u00XX in lower-case hex, as String(_:radix:16) spells it.
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          Self.hexDigit(byte >> 4), Self.hexDigit(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
