/// A JSON object whose values are all scalars (strings without escapes, integers, `true`,
/// `false`, `null`), read in one pass without a tree and without a `String` per key: the shape of
/// nearly every producer message, read on the hot path for every `/feed` frame.
///
/// It only ever accepts text that `JSONValue.parse` reads as the same object (tests hold it to
/// that), and it is nil for everything else: nesting, escapes, non-integer or out-of-range
/// numbers, keys that are not plain ASCII, malformed text. The caller then uses `JSONValue.parse`,
/// so what is refused, and every error message and offset, stays the general parser's.
public struct FlatJSONObject: Sendable {
    public enum Value: Sendable, Equatable {
        case string(String)
        case int(Int64)
        case bool(Bool)
        case null
    }

    private enum Scanned: Sendable {
        case string(Range<Int>)
        case int(Int64)
        case bool(Bool)
        case null
    }

    private let bytes: [UInt8]
    private var fields: [(key: Range<Int>, value: Scanned)] = []

    public init?(_ text: String) {
        bytes = Array(text.utf8)
        fields.reserveCapacity(10)
        var index = skipWhitespace(0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index = skipWhitespace(index + 1)
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                guard let key = plainString(at: index), bytes[key].allSatisfy({ $0 < 0x80 }) else { return nil }
                index = skipWhitespace(key.upperBound + 1)
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index = skipWhitespace(index + 1)
                guard let (value, end) = scalar(at: index) else { return nil }
                fields.append((key, value))
                index = skipWhitespace(end)
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") { index = skipWhitespace(index + 1); continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; break }
                return nil
            }
        }
        guard skipWhitespace(index) == bytes.count else { return nil }
    }

    /// The first field of that name (as `JSONValue`'s subscript finds it), nil when absent.
    public subscript(key: StaticString) -> Value? {
        guard let value = scanned(key) else { return nil }
        switch value {
        case .string(let range): return .string(String(decoding: bytes[range], as: UTF8.self))
        case .int(let number): return .int(number)
        case .bool(let flag): return .bool(flag)
        case .null: return .null
        }
    }

    /// Whether the field is a string of exactly these bytes ("fill", "buy"), without making it a `String`.
    public func has(_ key: StaticString, equalTo text: StaticString) -> Bool {
        guard case .string(let range)? = scanned(key) else { return false }
        return Self.equal(bytes[range], text)
    }

    /// The object as `JSONValue.parse` reads it (for tests and diagnostics).
    public var jsonValue: JSONValue {
        .object(fields.map { field in
            let key = String(decoding: bytes[field.key], as: UTF8.self)
            switch field.value {
            case .string(let range): return (key, .string(String(decoding: bytes[range], as: UTF8.self)))
            case .int(let number): return (key, .int(number))
            case .bool(let flag): return (key, .bool(flag))
            case .null: return (key, .null)
            }
        })
    }

    private func scanned(_ key: StaticString) -> Scanned? {
        for field in fields where Self.equal(bytes[field.key], key) { return field.value }
        return nil
    }

    private static func equal(_ bytes: ArraySlice<UInt8>, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        return text.withUTF8Buffer { bytes.elementsEqual($0) }
    }

    private func skipWhitespace(_ from: Int) -> Int {
        var index = from
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    /// The contents of a string at `index` (its opening quote) when it has no escape and no
    /// control byte; nil otherwise.
    private func plainString(at index: Int) -> Range<Int>? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        var end = index + 1
        while end < bytes.count {
            switch bytes[end] {
            case UInt8(ascii: "\""): return index + 1..<end
            case UInt8(ascii: "\\"), 0..<0x20: return nil
            default: end += 1
            }
        }
        return nil
    }

    /// A scalar at `index` and where it ends; nil for anything the fast path leaves to the parser.
    private func scalar(at index: Int) -> (Scanned, Int)? {
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            guard let range = plainString(at: index) else { return nil }
            return (.string(range), range.upperBound + 1)
        case UInt8(ascii: "t"): return literal("true", at: index).map { (.bool(true), $0) }
        case UInt8(ascii: "f"): return literal("false", at: index).map { (.bool(false), $0) }
        case UInt8(ascii: "n"): return literal("null", at: index).map { (.null, $0) }
        default:
            // An integer as the parser reads one: optional "-", digits, no leading zero, and
            // neither a fraction nor an exponent after it (those stay exact text there).
            var end = index
            if bytes[end] == UInt8(ascii: "-") { end += 1 }
            let digitsStart = end
            while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") { end += 1 }
            let digits = end - digitsStart
            guard digits > 0, digits == 1 || bytes[digitsStart] != UInt8(ascii: "0") else { return nil }
            if end < bytes.count, bytes[end] == UInt8(ascii: ".") || bytes[end] == UInt8(ascii: "e") || bytes[end] == UInt8(ascii: "E") {
                return nil
            }
            guard let value = JSONParser.integer(bytes[index..<end]) else { return nil }
            return (.int(value), end)
        }
    }

    private func literal(_ text: StaticString, at index: Int) -> Int? {
        let end = index + text.utf8CodeUnitCount
        guard end <= bytes.count, Self.equal(bytes[index..<end], text) else { return nil }
        return end
    }
}
