/// Header fields in arrival order. Names compare case-insensitively (ASCII only, as RFC 9110
/// defines them); repeated names are kept so `values(_:)` can see all of them.
public struct HTTPHeaders: Sendable {
    public private(set) var fields: [(name: String, value: String)]
    /// Lower-cased names, parallel to `fields`, so lookups do not re-fold case each time.
    private var foldedNames: [String]

    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
        self.foldedNames = fields.map { asciiLowercased($0.name) }
    }

    /// The first value of `name`, or nil.
    public subscript(_ name: String) -> String? {
        guard let index = foldedNames.firstIndex(where: { Self.folded($0, equals: name) }) else { return nil }
        return fields[index].value
    }

    /// Every value of `name`, in arrival order.
    public func values(_ name: String) -> [String] {
        var found: [String] = []
        for index in foldedNames.indices where Self.folded(foldedNames[index], equals: name) {
            found.append(fields[index].value)
        }
        return found
    }

    /// Whether a lower-cased field name equals `name` ignoring ASCII case. Compares bytes in
    /// place: a request's headers are looked up a dozen times on the upgrade path, and folding
    /// each asked-for name into a new string cost ~20,000 instructions per connection.
    private static func folded(_ folded: String, equals name: String) -> Bool {
        // Callers mostly ask with lower-case names: plain equality answers those in one compare.
        if folded == name { return true }
        let stored = folded.utf8, asked = name.utf8
        guard stored.count == asked.count else { return false }
        for (have, want) in zip(stored, asked) where have != (want >= 0x41 && want <= 0x5A ? want + 0x20 : want) {
            return false
        }
        return true
    }

    /// The comma-separated tokens of every value of `name`, trimmed and lower-cased, empty ones
    /// dropped (`Connection: keep-alive, Upgrade` → `["keep-alive", "upgrade"]`).
    public func tokens(_ name: String) -> [String] {
        // One pass over each value's bytes (every upgrade asks for two headers' tokens).
        var tokens: [String] = []
        for value in values(name) {
            var token: [UInt8] = []
            func finish() {
                while let last = token.last, last == sp || last == htab { token.removeLast() }
                if !token.isEmpty { tokens.append(String(decoding: token, as: UTF8.self)) }
                token.removeAll(keepingCapacity: true)
            }
            for byte in value.utf8 {
                if byte == UInt8(ascii: ",") {
                    finish()
                } else if token.isEmpty && (byte == sp || byte == htab) {
                    continue
                } else {
                    token.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
                }
            }
            finish()
        }
        return tokens
    }

    public func contains(_ name: String) -> Bool { foldedNames.contains { Self.folded($0, equals: name) } }

    public var count: Int { fields.count }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
        foldedNames.append(asciiLowercased(name))
    }

    /// Removes every field called `name`.
    public mutating func remove(_ name: String) {
        let folded = asciiLowercased(name)
        var index = foldedNames.count - 1
        while index >= 0 {
            if foldedNames[index] == folded {
                fields.remove(at: index)
                foldedNames.remove(at: index)
            }
            index -= 1
        }
    }

    /// Replaces every field called `name` with one field.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }
}

func asciiLowercased(_ text: some StringProtocol) -> String {
    // Header names are ASCII; leave anything else untouched rather than applying Unicode folding.
    var bytes = Array(text.utf8)
    for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5A {
        bytes[index] += 0x20
    }
    return String(decoding: bytes, as: UTF8.self)
}

func trimmingWhitespace(_ text: some StringProtocol) -> String {
    let bytes = Array(text.utf8)
    guard let first = bytes.firstIndex(where: { $0 != sp && $0 != htab }) else { return "" }
    let last = bytes.lastIndex(where: { $0 != sp && $0 != htab })!
    return String(decoding: bytes[first...last], as: UTF8.self)
}
