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

    /// A field name to look up, packed once (a `static let` of the caller's) instead of at every
    /// lookup: a fill is read with ~10 lookups.
    public struct Key: Sendable {
        let text: StaticString
        let name: KeyName

        public init(_ text: StaticString) {
            self.text = text
            name = KeyName(text)
        }
    }

    private struct Field {
        var key: Range<Int>
        var name: KeyName
        var value: Scanned
    }

    /// A key's length and first 16 bytes, packed: a lookup compares two words and a length per
    /// field instead of the bytes (the producer's keys are 3–10 bytes; longer ones compare their
    /// bytes when these agree).
    struct KeyName: Equatable, Sendable {
        var count = 0
        var low: UInt64 = 0
        var high: UInt64 = 0

        mutating func add(_ byte: UInt8) {
            if count < 8 {
                low |= UInt64(byte) << (8 * UInt64(count))
            } else if count < 16 {
                high |= UInt64(byte) << (8 * UInt64(count - 8))
            }
            count += 1
        }

        init() {}

        init(_ text: StaticString) {
            text.withUTF8Buffer { for byte in $0 { add(byte) } }
        }
    }

    private let bytes: [UInt8]
    private var fields: [Field] = []

    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard let fields = Self.scan(utf8.span) else { return nil }
        bytes = utf8
        self.fields = fields
    }

    private static func scan(_ input: Span<UInt8>) -> [Field]? {
        var fields: [Field] = []
        fields.reserveCapacity(10)
        var index = skipWhitespace(input, 0)
        guard index < input.count, input[index] == UInt8(ascii: "{") else { return nil }
        index = skipWhitespace(input, index + 1)
        if index < input.count, input[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                guard let (key, name) = plainKey(input, at: index) else { return nil }
                index = skipWhitespace(input, key.upperBound + 1)
                guard index < input.count, input[index] == UInt8(ascii: ":") else { return nil }
                index = skipWhitespace(input, index + 1)
                guard let (value, end) = scalar(input, at: index) else { return nil }
                fields.append(Field(key: key, name: name, value: value))
                index = skipWhitespace(input, end)
                guard index < input.count else { return nil }
                if input[index] == UInt8(ascii: ",") { index = skipWhitespace(input, index + 1); continue }
                if input[index] == UInt8(ascii: "}") { index += 1; break }
                return nil
            }
        }
        guard skipWhitespace(input, index) == input.count else { return nil }
        return fields
    }

    /// The first field of that name (as `JSONValue`'s subscript finds it), nil when absent.
    public subscript(key: StaticString) -> Value? { self[Key(key)] }

    /// The first field of that name (as `JSONValue`'s subscript finds it), nil when absent.
    public subscript(key: Key) -> Value? {
        guard let value = scanned(key) else { return nil }
        switch value {
        case .string(let range): return .string(string(range))
        case .int(let number): return .int(number)
        case .bool(let flag): return .bool(flag)
        case .null: return .null
        }
    }

    /// Whether the field is a string of exactly these bytes ("fill", "buy"), without making it a `String`.
    public func has(_ key: StaticString, equalTo text: StaticString) -> Bool { has(Key(key), equalTo: text) }

    /// Whether the field is a string of exactly these bytes ("fill", "buy"), without making it a `String`.
    public func has(_ key: Key, equalTo text: StaticString) -> Bool {
        guard case .string(let range)? = scanned(key) else { return false }
        return equal(range, text)
    }

    /// The object as `JSONValue.parse` reads it (for tests and diagnostics).
    public var jsonValue: JSONValue {
        .object(fields.map { field in
            let key = string(field.key)
            switch field.value {
            case .string(let range): return (key, .string(string(range)))
            case .int(let number): return (key, .int(number))
            case .bool(let flag): return (key, .bool(flag))
            case .null: return (key, .null)
            }
        })
    }

    private func scanned(_ key: Key) -> Scanned? {
        for field in fields where field.name == key.name && (key.name.count <= 16 || equal(field.key, key.text)) {
            return field.value
        }
        return nil
    }

    /// The text of a scanned key or string (its UTF-8 bytes, decoded as the parser decodes them).
    private func string(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// Whether the bytes of `range` are those of `expected`.
    private func equal(_ range: Range<Int>, _ expected: StaticString) -> Bool {
        guard range.count == expected.utf8CodeUnitCount else { return false }
        return expected.withUTF8Buffer { utf8 in
            for offset in 0..<utf8.count where bytes[range.lowerBound + offset] != utf8[offset] { return false }
            return true
        }
    }

    private static func skipWhitespace(_ input: Span<UInt8>, _ from: Int) -> Int {
        var index = from
        while index < input.count {
            switch input[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    /// A key at `index` (its opening quote), as `plainString` reads it, when it is all ASCII;
    /// with its packed name, taken in the same pass.
    private static func plainKey(_ input: Span<UInt8>, at index: Int) -> (Range<Int>, KeyName)? {
        guard index < input.count, input[index] == UInt8(ascii: "\"") else { return nil }
        var name = KeyName()
        var end = index + 1
        while end < input.count {
            switch input[end] {
            case UInt8(ascii: "\""): return (index + 1..<end, name)
            case UInt8(ascii: "\\"), 0..<0x20, 0x80...: return nil
            case let byte: name.add(byte); end += 1
            }
        }
        return nil
    }

    /// The contents of a string at `index` (its opening quote) when it has no escape and no
    /// control byte; nil otherwise.
    private static func plainString(_ input: Span<UInt8>, at index: Int) -> Range<Int>? {
        guard index < input.count, input[index] == UInt8(ascii: "\"") else { return nil }
        var end = index + 1
        while end < input.count {
            switch input[end] {
            case UInt8(ascii: "\""): return index + 1..<end
            case UInt8(ascii: "\\"), 0..<0x20: return nil
            default: end += 1
            }
        }
        return nil
    }

    /// A scalar at `index` and where it ends; nil for anything the fast path leaves to the parser.
    private static func scalar(_ input: Span<UInt8>, at index: Int) -> (Scanned, Int)? {
        guard index < input.count else { return nil }
        switch input[index] {
        case UInt8(ascii: "\""):
            guard let range = plainString(input, at: index) else { return nil }
            return (.string(range), range.upperBound + 1)
        case UInt8(ascii: "t"): return literal("true", in: input, at: index).map { (.bool(true), $0) }
        case UInt8(ascii: "f"): return literal("false", in: input, at: index).map { (.bool(false), $0) }
        case UInt8(ascii: "n"): return literal("null", in: input, at: index).map { (.null, $0) }
        default:
            // An integer as the parser reads one: optional "-", digits, no leading zero, and
            // neither a fraction nor an exponent after it (those stay exact text there).
            var end = index
            if input[end] == UInt8(ascii: "-") { end += 1 }
            let digitsStart = end
            while end < input.count, input[end] >= UInt8(ascii: "0"), input[end] <= UInt8(ascii: "9") { end += 1 }
            let digits = end - digitsStart
            guard digits > 0, digits == 1 || input[digitsStart] != UInt8(ascii: "0") else { return nil }
            if end < input.count, input[end] == UInt8(ascii: ".") || input[end] == UInt8(ascii: "e") || input[end] == UInt8(ascii: "E") {
                return nil
            }
            guard let value = JSONParser.integer(input.extracting(index..<end)) else { return nil }
            return (.int(value), end)
        }
    }

    private static func literal(_ text: StaticString, in input: Span<UInt8>, at index: Int) -> Int? {
        let end = index + text.utf8CodeUnitCount
        guard end <= input.count else { return nil }
        return text.withUTF8Buffer { utf8 in
            for offset in 0..<utf8.count where input[index + offset] != utf8[offset] { return nil }
            return end
        }
    }
}
