import Bytes

/// Compact JSON written straight into one byte array: the hot-path twin of `JSONValue.write`.
///
/// Every writer produces exactly the bytes `JSONValue.serialized` would for the same value
/// (tests compare them), without building a tree or appending to a `String`. Commas are placed
/// by the writer itself: a key or a value after a finished value gets one, so callers just list
/// fields and array items in order.
///
/// Each token (a key with its comma, quotes and colon; a number; a quoted decimal) is one
/// capacity check and then plain stores into room that is already there (`room(_:)`): the
/// ingest thread writes ~10 messages and ~200 tokens per fill, and a per-token `OutputSpan`
/// closure or a per-byte `Array.append` cost several times the bytes themselves.
///
/// Not copyable: the writer owns its bytes outright (freed in `deinit`), so no write ever has to
/// ask whether a copy shares them. The small hot tokens (keys, static strings, integers,
/// brackets) are `@inlinable`, so the encoder in `Wire` inlines them and a key's length is a
/// constant there: a key is then a few stores instead of a call.
public struct JSONBytes: ~Copyable, @unchecked Sendable {
    // Sendable by hand: the only stored reference is `start`, memory this value alone owns.
    /// `start[..<written]` is the JSON so far; `start[written..<capacity]` is free room.
    @usableFromInline var start: UnsafeMutablePointer<UInt8>
    @usableFromInline var capacity: Int
    @usableFromInline var written = 0
    /// True right after a value: the next key or array item needs a comma first.
    @usableFromInline var afterValue = false
    /// The room the last `room(_:)` granted (checked by `wrote` in debug builds only).
    @usableFromInline var requested = 0

    public init(reservingCapacity capacity: Int = 320) {
        self.capacity = Swift.max(capacity, 64)
        start = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit { start.deallocate() }

    /// The JSON written so far (a copy of exactly those bytes).
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: start, count: written)) }

    /// How many bytes have been written.
    public var count: Int { written }

    /// The text of the one string value written so far, without its quotes: for a value the
    /// writer spells (a price's display text, `priceText` in `Wire`) wanted as a `String`. Only
    /// for a writer holding exactly one string value that needed no escaping.
    public var stringContents: String {
        precondition(written >= 2 && start[0] == UInt8(ascii: "\"") && start[written - 1] == UInt8(ascii: "\""),
                     "stringContents of a writer that holds more than one string value")
        return String(decoding: UnsafeBufferPointer(start: start + 1, count: written - 2), as: UTF8.self)
    }

    /// Starts over, keeping the room: one writer can encode message after message.
    public mutating func removeAll() {
        written = 0
        afterValue = false
    }

    // MARK: Structure

    @inlinable @inline(__always)
    public mutating func openObject() { open(UInt8(ascii: "{")) }
    @inlinable @inline(__always)
    public mutating func closeObject() { close(UInt8(ascii: "}")) }
    @inlinable @inline(__always)
    public mutating func openArray() { open(UInt8(ascii: "[")) }
    @inlinable @inline(__always)
    public mutating func closeArray() { close(UInt8(ascii: "]")) }

    /// `"key":` for a key known at compile time (no escaping needed, no allocation).
    @inlinable @inline(__always)
    public mutating func key(_ key: StaticString) {
        let comma = afterValue
        afterValue = false
        let length = key.utf8CodeUnitCount
        let out = room(length + 4)
        var at = 0
        if comma { out[0] = UInt8(ascii: ","); at = 1 }
        out[at] = UInt8(ascii: "\"")
        at += 1
        at += Self.copy(key, to: out + at)
        out[at] = UInt8(ascii: "\"")
        out[at + 1] = UInt8(ascii: ":")
        wrote(at + 2)
    }

    /// `"key":` for a key only known at run time (escaped like any string). A separate label,
    /// because a literal would otherwise pick the `String` overload over the `StaticString` one.
    public mutating func key(escaping key: String) {
        string(key)
        appendByte(UInt8(ascii: ":"))
        afterValue = false
    }

    // MARK: Values

    public mutating func string(_ text: String) {
        // Fast path: ids, symbols and prices never need escaping; scanning and copying the
        // contiguous UTF-8 is several times cheaper than going through the String's iterator.
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { quoted($0) }
        if copied == nil { Array(text.utf8).withUnsafeBufferPointer { quoted($0) } }
    }

    /// A string value from its UTF-8 bytes (escaped like any string).
    public mutating func string(utf8 text: Span<UInt8>) {
        text.withUnsafeBufferPointer { quoted($0) }
    }

    public mutating func string(_ text: String?) {
        if let text { string(text) } else { null() }
    }

    /// A string value known at compile time that needs no escaping ("fill", "account").
    @inlinable @inline(__always)
    public mutating func string(static text: StaticString) {
        let comma = afterValue
        afterValue = true
        let out = room(text.utf8CodeUnitCount + 3)
        var at = 0
        if comma { out[0] = UInt8(ascii: ","); at = 1 }
        out[at] = UInt8(ascii: "\"")
        at += 1
        at += Self.copy(text, to: out + at)
        out[at] = UInt8(ascii: "\"")
        wrote(at + 1)
    }

    // MARK: A string value in pieces

    /// Starts a string value written in pieces (`stringDigits`, `stringCharacter`) and ended by
    /// `endString`, for text such as "110'16+" that would otherwise need a `String` first.
    public mutating func beginString() {
        let comma = afterValue
        afterValue = true
        let out = room(2)
        if comma { out[0] = UInt8(ascii: ","); out[1] = UInt8(ascii: "\""); wrote(2) } else { out[0] = UInt8(ascii: "\""); wrote(1) }
    }

    /// The decimal digits of `value` inside a string, zero-padded to `minimumCount` (≤ 20).
    public mutating func stringDigits(_ value: UInt64, minimumCount: Int = 1) {
        precondition(minimumCount <= 20)
        let out = room(20)
        wrote(Self.digits(value, minimumCount: minimumCount, to: out))
    }

    /// One printable ASCII character inside a string (one that needs no escaping).
    public mutating func stringCharacter(_ ascii: UInt8) {
        precondition(ascii >= 0x20 && ascii < 0x7F && ascii != 0x22 && ascii != 0x5C, "a character that needs escaping")
        room(1)[0] = ascii
        wrote(1)
    }

    public mutating func endString() {
        room(1)[0] = UInt8(ascii: "\"")
        wrote(1)
    }

    // MARK: Numbers

    @inlinable @inline(__always)
    public mutating func int(_ value: Int64) {
        let comma = afterValue
        afterValue = true
        let out = room(22)
        var at = 0
        if comma { out[0] = UInt8(ascii: ","); at = 1 }
        if value < 0 { out[at] = UInt8(ascii: "-"); at += 1 }
        wrote(at + Self.digits(value.magnitude, to: out + at))
    }

    @inlinable
    public mutating func bool(_ value: Bool) {
        literal(value ? "true" : "false")
    }

    @inlinable
    public mutating func null() {
        literal("null")
    }

    /// `isoString(nanos)`, quoted: "2026-11-24T14:30:00.123Z", milliseconds truncated.
    public mutating func time(_ nanos: Nanos) {
        let comma = afterValue
        afterValue = true
        let civil = UTCFields(nanos: nanos)
        // Years of Int64 nanos are 1677…2262: four digits, like isoString's padding.
        let out = room(27)
        var at = 0
        if comma { out[0] = UInt8(ascii: ","); at = 1 }
        out[at] = UInt8(ascii: "\"")
        at += 1
        at += Self.digits(UInt64(civil.year), minimumCount: 4, to: out + at)
        // The fixed part after the year: "-MM-DDTHH:MM:SS.mmmZ\"", 21 bytes.
        Self.twoDigits(civil.month, after: UInt8(ascii: "-"), to: out + at)
        Self.twoDigits(civil.day, after: UInt8(ascii: "-"), to: out + at + 3)
        Self.twoDigits(civil.hour, after: UInt8(ascii: "T"), to: out + at + 6)
        Self.twoDigits(civil.minute, after: UInt8(ascii: ":"), to: out + at + 9)
        Self.twoDigits(civil.second, after: UInt8(ascii: ":"), to: out + at + 12)
        out[at + 15] = UInt8(ascii: ".")
        _ = Self.digits(UInt64(civil.millisecond), minimumCount: 3, to: out + at + 16)
        out[at + 19] = UInt8(ascii: "Z")
        out[at + 20] = UInt8(ascii: "\"")
        wrote(at + 21)
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
            if afterValue { appendByte(UInt8(ascii: ",")) }
            appendBytes(text.utf8)
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

    /// A quoted fixed-point number of 1e-8 units (the ledger's prices and money): sign, whole
    /// part, then the 1e-8 fraction with trailing zeros trimmed (no dot when it is zero), padded
    /// back with zeros to `minimumFractionDigits` when it has fewer ("6012.50" for a two-place
    /// display). Works on the magnitude so Int64.min is fine.
    @inlinable
    public mutating func quotedDecimal8(_ units: Int64, minimumFractionDigits: Int = 0) {
        let comma = afterValue
        afterValue = true
        let magnitude = units.magnitude
        var fraction = magnitude % 100_000_000
        var fractionDigits = 0
        if fraction != 0 {
            fractionDigits = 8
            // Trailing zeros in halving steps: a whole-cent amount costs three divisions, not six.
            if fraction % 10_000 == 0 { fraction /= 10_000; fractionDigits -= 4 }
            if fraction % 100 == 0 { fraction /= 100; fractionDigits -= 2 }
            if fraction % 10 == 0 { fraction /= 10; fractionDigits -= 1 }
        }
        let padding = Swift.max(0, minimumFractionDigits - fractionDigits)
        let out = room(33 + padding)
        var at = 0
        if comma { out[0] = UInt8(ascii: ","); at = 1 }
        out[at] = UInt8(ascii: "\"")
        at += 1
        if units < 0 { out[at] = UInt8(ascii: "-"); at += 1 }
        at += Self.digits(magnitude / 100_000_000, to: out + at)
        if fractionDigits + padding > 0 {
            out[at] = UInt8(ascii: ".")
            at += 1
            if fractionDigits > 0 {
                Self.fixedDigits(fraction, count: fractionDigits, to: out + at)
                at += fractionDigits
            }
            for _ in 0..<padding { out[at] = UInt8(ascii: "0"); at += 1 }
        }
        out[at] = UInt8(ascii: "\"")
        wrote(at + 1)
    }

    // MARK: Bytes

    @inlinable @inline(__always)
    mutating func open(_ bracket: UInt8) {
        let comma = afterValue
        afterValue = false
        let out = room(2)
        if comma { out[0] = UInt8(ascii: ","); out[1] = bracket; wrote(2) } else { out[0] = bracket; wrote(1) }
    }

    @inlinable @inline(__always)
    mutating func close(_ bracket: UInt8) {
        appendByte(bracket)
        afterValue = true
    }

    @inlinable
    mutating func literal(_ text: StaticString) {
        let comma = afterValue
        afterValue = true
        let out = room(text.utf8CodeUnitCount + 1)
        var at = 0
        if comma { out[0] = UInt8(ascii: ","); at = 1 }
        wrote(at + Self.copy(text, to: out + at))
    }

    @inlinable
    mutating func appendByte(_ byte: UInt8) {
        room(1)[0] = byte
        wrote(1)
    }

    private mutating func appendBytes(_ bytes: some Collection<UInt8>) {
        for byte in bytes { appendByte(byte) }
    }

    /// At least `count` bytes of room after what is written, and where it starts. The caller
    /// stores at most `count` bytes there, then calls `wrote(_:)` with how many, before any other
    /// write (which may move the storage). Every caller asks for a bound of what its token can
    /// take (a key's length + 4, a sign and 20 digits…): that bound is the whole safety argument
    /// of the pointer work here, and `wrote` checks it in debug builds.
    @inlinable @inline(__always)
    mutating func room(_ count: Int) -> UnsafeMutablePointer<UInt8> {
        if capacity &- written < count { grow(toHold: count) }
        requested = count
        return start + written
    }

    /// Moves the bytes to an allocation twice as large (at least `count` more bytes free), so a
    /// snapshot built from thousands of tokens is not reallocated token by token.
    @usableFromInline
    mutating func grow(toHold count: Int) {
        let larger = Swift.max(capacity * 2, written + count)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.initialize(from: start, count: written)
        start.deallocate()
        start = moved
        capacity = larger
    }

    @inlinable @inline(__always)
    mutating func wrote(_ count: Int) {
        assert(count <= requested, "a JSON token wrote past the room it asked for")
        written &+= count
    }

    /// Copies a compile-time string to `target` (which has room for it) and returns its length.
    @inlinable @inline(__always)
    static func copy(_ text: StaticString, to target: UnsafeMutablePointer<UInt8>) -> Int {
        copySmall(from: text.utf8Start, count: text.utf8CodeUnitCount, to: target)
    }

    /// Copies `bytes` to `target` (which has room for them) and returns how many.
    @inline(__always)
    private static func copy(_ bytes: UnsafeBufferPointer<UInt8>, to target: UnsafeMutablePointer<UInt8>) -> Int {
        guard let source = bytes.baseAddress else { return 0 }
        return copySmall(from: source, count: bytes.count, to: target)
    }

    /// Keys, ids and symbols are 2–16 bytes: two overlapping 8- or 4-byte moves copy them in a
    /// few instructions, where a call to memcpy or a byte loop costs several times more.
    @inlinable @inline(__always)
    static func copySmall(from source: UnsafePointer<UInt8>, count: Int, to target: UnsafeMutablePointer<UInt8>) -> Int {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
        switch count {
        case 8...16:
            to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self), toByteOffset: count - 8, as: UInt64.self)
        case 4..<8:
            to.storeBytes(of: from.loadUnaligned(as: UInt32.self), as: UInt32.self)
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self), toByteOffset: count - 4, as: UInt32.self)
        case 0..<4:
            for index in 0..<count { target[index] = source[index] }
        default:
            target.update(from: source, count: count)
        }
        return count
    }

    /// The digits of `value`, zero-padded on the left to at least `minimumCount` (≤ 20); returns
    /// their count.
    @inlinable @inline(__always)
    static func digits(_ value: UInt64, minimumCount: Int = 1, to target: UnsafeMutablePointer<UInt8>) -> Int {
        let count = Swift.max(digitCount(value), minimumCount)
        fixedDigits(value, count: count, to: target)
        return count
    }

    /// Exactly `count` digits of `value` (which has at most that many), zero-padded on the left,
    /// written backwards from the last one two at a time: one division by the constant 100 and
    /// a copy from `digitPairs` per pair, where a division per digit cost twice the divisions
    /// (money and prices are written ~100 times a fill).
    @inlinable @inline(__always)
    static func fixedDigits(_ value: UInt64, count: Int, to target: UnsafeMutablePointer<UInt8>) {
        let pairs = digitPairs.utf8Start
        var rest = value
        var index = count
        while rest >= 100 {
            let pair = Int(truncatingIfNeeded: rest % 100) &* 2
            rest /= 100
            index &-= 2
            target[index] = pairs[pair]
            target[index &+ 1] = pairs[pair &+ 1]
        }
        if rest >= 10 {
            let pair = Int(truncatingIfNeeded: rest) &* 2
            index &-= 2
            target[index] = pairs[pair]
            target[index &+ 1] = pairs[pair &+ 1]
        } else {
            index &-= 1
            target[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest)
        }
        while index > 0 {
            index &-= 1
            target[index] = UInt8(ascii: "0")
        }
    }

    /// "00", "01", … "99" in a row: the two digits of n at 2n.
    @inlinable
    static var digitPairs: StaticString {
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
    }

    /// How many decimal digits `value` has (1…20), by comparisons (at most five for the amounts
    /// written here) instead of a multiplication per digit.
    @inlinable @inline(__always)
    static func digitCount(_ value: UInt64) -> Int {
        if value < 10_000 {
            return value < 100 ? (value < 10 ? 1 : 2) : (value < 1_000 ? 3 : 4)
        }
        if value < 100_000_000 {
            return value < 1_000_000 ? (value < 100_000 ? 5 : 6) : (value < 10_000_000 ? 7 : 8)
        }
        if value < 10_000_000_000_000_000 {
            if value < 1_000_000_000_000 {
                return value < 10_000_000_000 ? (value < 1_000_000_000 ? 9 : 10) : (value < 100_000_000_000 ? 11 : 12)
            }
            return value < 100_000_000_000_000 ? (value < 10_000_000_000_000 ? 13 : 14) : (value < 1_000_000_000_000_000 ? 15 : 16)
        }
        return value < 1_000_000_000_000_000_000 ? (value < 100_000_000_000_000_000 ? 17 : 18)
            : (value < 10_000_000_000_000_000_000 ? 19 : 20)
    }

    /// `separator` then `value` (0…99) as two digits, at `target`.
    @inline(__always)
    private static func twoDigits(_ value: Int64, after separator: UInt8, to target: UnsafeMutablePointer<UInt8>) {
        target[0] = separator
        target[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10)
        target[2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
    }

    /// A string value from UTF-8 bytes: copied in one piece when nothing needs escaping (ids,
    /// symbols, prices), else escaped exactly like `JSONValue.writeString` (`"`, `\`, and control
    /// bytes; everything else, multi-byte UTF-8 included, is copied as is).
    private mutating func quoted(_ utf8: UnsafeBufferPointer<UInt8>) {
        let comma = afterValue
        afterValue = true
        let plain = !Self.needsEscaping(utf8)
        // Escaped, a byte takes at most 6 (\u00XX).
        let out = room((plain ? utf8.count : 6 * utf8.count) + 3)
        var at = 0
        if comma { out[0] = UInt8(ascii: ","); at = 1 }
        out[at] = UInt8(ascii: "\"")
        at += 1
        if plain {
            at += Self.copy(utf8, to: out + at)
        } else {
            for byte in utf8 {
                switch byte {
                case 0x22, 0x5C: out[at] = UInt8(ascii: "\\"); out[at + 1] = byte; at += 2
                case 0x0A: out[at] = UInt8(ascii: "\\"); out[at + 1] = UInt8(ascii: "n"); at += 2
                case 0x0D: out[at] = UInt8(ascii: "\\"); out[at + 1] = UInt8(ascii: "r"); at += 2
                case 0x09: out[at] = UInt8(ascii: "\\"); out[at + 1] = UInt8(ascii: "t"); at += 2
                case 0..<0x20:
                    // \u00XX in lower-case hex, as String(_:radix:16) spells it.
                    out[at] = UInt8(ascii: "\\"); out[at + 1] = UInt8(ascii: "u")
                    out[at + 2] = UInt8(ascii: "0"); out[at + 3] = UInt8(ascii: "0")
                    out[at + 4] = Self.hexDigit(byte >> 4); out[at + 5] = Self.hexDigit(byte & 0x0F)
                    at += 6
                default: out[at] = byte; at += 1
                }
            }
        }
        out[at] = UInt8(ascii: "\"")
        wrote(at + 1)
    }

    /// Whether any byte needs escaping (a control byte, `"` or `\`), a word at a time: two
    /// overlapping 8-byte words for 8–16 bytes, two overlapping 4-byte halves for 4–7 (ids, names
    /// and prices are 2–16 bytes, ~20 of them a fill), where a byte loop cost a compare and
    /// branch per byte per test.
    @inline(__always)
    private static func needsEscaping(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = utf8.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        let count = utf8.count
        switch count {
        case 8...:
            var offset = 0
            while offset < count - 8 {
                if escapable(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) { return true }
                offset += 8
            }
            return escapable(raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
        case 4..<8:
            let low = UInt64(raw.loadUnaligned(as: UInt32.self))
            let high = UInt64(raw.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
            return escapable(low | high << 32)
        default:
            for index in 0..<count where base[index] < 0x20 || base[index] == 0x22 || base[index] == 0x5C { return true }
            return false
        }
    }

    /// Whether any byte of `word` is below 0x20, `"` or `\`: the has-less-than and has-zero-byte
    /// tests of eight bytes at once. A borrow starts only at a byte that matches, so the answer
    /// is exact (only bits above a matching byte can be wrong); bytes from 0x80 up never match.
    @inline(__always)
    private static func escapable(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let isQuote = (quote &- ones) & ~quote
        let isBackslash = (backslash &- ones) & ~backslash
        return (control | isQuote | isBackslash) & (ones &* 0x80) != 0
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}

