/// Header fields in arrival order. Names compare case-insensitively (ASCII only, as RFC 9110
/// defines them); repeated names are kept so `values(_:)` can see all of them.
///
/// Kept as bytes: every field's name and value back to back in one array, plus where each one
/// ends. The parser copies a request's fields in with two allocations for the whole head, and a
/// `String` is made only for a value somebody asks for: the connect path asks for a handful, and
/// a `String` per name and value (with an array of them) cost ~25,000 instructions a request.
public struct HTTPHeaders: Sendable {
    /// Each field's name, then its value (UTF-8), field after field.
    private(set) var storage: [UInt8] = []
    /// Where each field's name and value end in `storage`. A field starts where the previous
    /// field's value ends, so two offsets locate it.
    private(set) var ends: [FieldEnds] = []

    struct FieldEnds: Sendable {
        var name: Int
        var value: Int
        /// `NameKey` of the name: a lookup compares the bytes of only the fields whose key
        /// matches, instead of walking the asked-for name once per field.
        var nameKey: UInt32
    }

    public init(_ fields: [(name: String, value: String)] = []) {
        for field in fields { add(field.name, field.value) }
    }

    /// Room for `fields` fields holding `bytes` bytes in all, so the parser appends without regrowing.
    public init(reservingFields fields: Int, bytes: Int) {
        storage.reserveCapacity(bytes)
        ends.reserveCapacity(fields)
    }

    /// Every field as strings, in arrival order (made on demand; lookups do not need them).
    public var fields: [(name: String, value: String)] {
        ends.indices.map { (name: String(decoding: nameBytes(at: $0), as: UTF8.self),
                            value: String(decoding: valueBytes(at: $0), as: UTF8.self)) }
    }

    public var count: Int { ends.count }

    /// The first value of `name`, or nil.
    public subscript(_ name: String) -> String? {
        guard let field = firstIndex(of: name) else { return nil }
        return String(decoding: valueBytes(at: field), as: UTF8.self)
    }

    /// Every value of `name`, in arrival order.
    public func values(_ name: String) -> [String] {
        indices(of: name).map { String(decoding: valueBytes(at: $0), as: UTF8.self) }
    }

    public func contains(_ name: String) -> Bool { firstIndex(of: name) != nil }

    /// How many fields are called `name` (a request must carry exactly one Host, one key, …).
    public func count(of name: String) -> Int {
        let key = nameKey(name)
        var found = 0
        for field in ends.indices where isField(field, called: name, key: key) { found += 1 }
        return found
    }

    /// The first value of `name` as bytes (a slice of the fields' storage, not a copy), or nil.
    public func firstValueBytes(_ name: String) -> ArraySlice<UInt8>? {
        firstIndex(of: name).map(valueBytes(at:))
    }

    /// The value of `name` as bytes when exactly one field has that name; nil when none or several do
    /// (a handshake needs exactly one key and one version).
    public func onlyValueBytes(_ name: String) -> ArraySlice<UInt8>? {
        let key = nameKey(name)
        var found: Int?
        for field in ends.indices where isField(field, called: name, key: key) {
            if found != nil { return nil }
            found = field
        }
        return found.map(valueBytes(at:))
    }

    /// The comma-separated tokens of every value of `name`, trimmed and lower-cased, empty ones
    /// dropped (`Connection: keep-alive, Upgrade` → `["keep-alive", "upgrade"]`).
    public func tokens(_ name: String) -> [String] {
        var tokens: [String] = []
        forEachToken(of: name) { token in
            tokens.append(String(decoding: token.lazy.map(asciiLowercased(byte:)), as: UTF8.self))
            return true
        }
        return tokens
    }

    /// Whether `token` is one of the comma-separated tokens of `name`'s values, ignoring ASCII
    /// case: `tokens(name).contains(token)` for a lower-case `token`, without making the strings.
    public func containsToken(_ token: String, in name: String) -> Bool {
        let key = nameKey(name)
        let wanted = token.utf8.span
        for field in ends.indices where isField(field, called: name, key: key) {
            // Index arithmetic on a Span: the upgrade path asks this for two headers.
            let valueSlice = valueBytes(at: field)
            let value = valueSlice.span
            var start = 0
            while start < value.count {
                var end = start
                while end < value.count && value[end] != UInt8(ascii: ",") { end += 1 }
                var first = start, last = end
                while first < last && (value[first] == sp || value[first] == htab) { first += 1 }
                while last > first && (value[last - 1] == sp || value[last - 1] == htab) { last -= 1 }
                if last > first && asciiCaseInsensitiveEqual(value.extracting(first..<last), wanted) { return true }
                start = end + 1
            }
        }
        return false
    }

    public mutating func add(_ name: String, _ value: String) {
        storage.append(contentsOf: name.utf8)
        let nameEnd = storage.count
        storage.append(contentsOf: value.utf8)
        ends.append(FieldEnds(name: nameEnd, value: storage.count, nameKey: nameKey(name)))
    }

    /// Appends a field from bytes already checked by the parser (a token name, a UTF-8 value).
    mutating func add(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        storage.append(contentsOf: name)
        let nameEnd = storage.count
        storage.append(contentsOf: value)
        ends.append(FieldEnds(name: nameEnd, value: storage.count, nameKey: nameKey(name)))
    }

    /// Removes every field called `name`.
    public mutating func remove(_ name: String) {
        guard firstIndex(of: name) != nil else { return }
        var kept = HTTPHeaders()
        let key = nameKey(name)
        for field in ends.indices where !isField(field, called: name, key: key) {
            kept.add(name: nameBytes(at: field), value: valueBytes(at: field))
        }
        self = kept
    }

    /// Replaces every field called `name` with one field.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    // MARK: Bytes

    func nameBytes(at field: Int) -> ArraySlice<UInt8> {
        storage[(field == 0 ? 0 : ends[field - 1].value)..<ends[field].name]
    }

    func valueBytes(at field: Int) -> ArraySlice<UInt8> {
        storage[ends[field].name..<ends[field].value]
    }

    func firstIndex(of name: String) -> Int? {
        let key = nameKey(name)
        for field in ends.indices where isField(field, called: name, key: key) {
            return field
        }
        return nil
    }

    /// Whether field `field` is called `name` (whose `nameKey` is `key`), ignoring ASCII case:
    /// the keys first, the bytes only when they match.
    @inline(__always)
    private func isField(_ field: Int, called name: String, key: UInt32) -> Bool {
        ends[field].nameKey == key && asciiCaseInsensitiveEqual(nameBytes(at: field), name)
    }

    /// The indices of the fields called `name`, in arrival order.
    func indices(of name: String) -> [Int] {
        let key = nameKey(name)
        var found: [Int] = []
        for field in ends.indices where isField(field, called: name, key: key) {
            found.append(field)
        }
        return found
    }

    /// Calls `body` with each comma-separated token of every value of `name` (spaces and tabs
    /// around it trimmed, empty ones skipped, case kept) until it returns false.
    private func forEachToken(of name: String, _ body: (ArraySlice<UInt8>) -> Bool) {
        let key = nameKey(name)
        for field in ends.indices where isField(field, called: name, key: key) {
            let value = valueBytes(at: field)
            var start = value.startIndex
            while start < value.endIndex {
                let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
                let token = trimmingWhitespace(value[start..<end])
                if !token.isEmpty && !body(token) { return }
                start = end + 1
            }
        }
    }
}

/// A hash of a header name with ASCII case folded (FNV-1a over the lower-cased bytes): equal
/// names ignoring case have equal keys.
func nameKey(_ name: String) -> UInt32 {
    nameKey(name.utf8.span)
}

func nameKey(_ name: ArraySlice<UInt8>) -> UInt32 {
    nameKey(name.span)
}

/// On a `Span` (contiguous, bounds-checked): iterating `String.UTF8View` through `Sequence`
/// cost ~3 times as much per byte, and every lookup hashes the name it is asked for.
func nameKey(_ name: Span<UInt8>) -> UInt32 {
    var key: UInt32 = 2_166_136_261
    for index in 0..<name.count { key = (key ^ UInt32(asciiLowercased(byte: name[index]))) &* 16_777_619 }
    return key
}

/// `bytes` equals `text` ignoring ASCII case; other bytes must match exactly.
func asciiCaseInsensitiveEqual(_ bytes: ArraySlice<UInt8>, _ text: String) -> Bool {
    asciiCaseInsensitiveEqual(bytes.span, text.utf8.span)
}

func asciiCaseInsensitiveEqual(_ left: Span<UInt8>, _ right: Span<UInt8>) -> Bool {
    guard left.count == right.count else { return false }
    for index in 0..<left.count where asciiLowercased(byte: left[index]) != asciiLowercased(byte: right[index]) {
        return false
    }
    return true
}

@inline(__always)
func asciiLowercased(byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }

func asciiLowercased(_ text: some StringProtocol) -> String {
    // Header names are ASCII; leave anything else untouched rather than applying Unicode folding.
    String(decoding: text.utf8.lazy.map(asciiLowercased(byte:)), as: UTF8.self)
}

/// `bytes` without the spaces and tabs at either end (the empty slice at its end if nothing else).
func trimmingWhitespace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var trimmed = bytes
    while let first = trimmed.first, first == sp || first == htab { trimmed.removeFirst() }
    while let last = trimmed.last, last == sp || last == htab { trimmed.removeLast() }
    return trimmed
}

func trimmingWhitespace(_ text: some StringProtocol) -> String {
    String(decoding: trimmingWhitespace(Array(text.utf8)[...]), as: UTF8.self)
}
