import JSON

/// Typed reading of one JSON object of the config file. Every error names the full key path and
/// says what was expected and what was found; unknown keys get a did-you-mean.
public struct ConfigSection {
    public let path: String
    public let members: [(key: String, value: JSONValue)]
    /// The instruments, accounts and tokens files have always read `"dv01": null` as no dv01
    /// (Foundation's `decodeIfPresent` did); the server config file refuses it as a wrong type.
    public let nullMeansAbsent: Bool
    /// The folder of the file this section came from (nil: unknown); nested sections inherit it.
    /// The server config resolves relative file paths against it (`ConfigPaths` in Server).
    public var base: String? = nil

    public init(_ value: JSONValue, path: String, nullMeansAbsent: Bool = false) throws(ConfigError) {
        guard case .object(let members) = value else {
            throw ConfigError(path: path, message: "wrong type: expected an object, found \(value.kindName)")
        }
        self.path = path
        self.members = members.map { (key: $0.0, value: $0.1) }
        self.nullMeansAbsent = nullMeansAbsent
    }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Keys starting with "//" are comments.
    public func checkKeys(_ known: [String]) throws(ConfigError) {
        var seen = Set<String>()
        for (key, _) in members where !key.hasPrefix("//") {
            guard known.contains(key) else {
                let hint = closestName(to: key, among: known).map { "; did you mean '\($0)'?" } ?? ""
                throw ConfigError(path: keyPath(key), message: "unknown key\(hint) (known keys: \(known.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw ConfigError(path: keyPath(key), message: "key given twice") }
        }
    }

    public func value(_ key: String) -> JSONValue? {
        guard let value = members.last(where: { $0.key == key })?.value else { return nil }
        if nullMeansAbsent, case .null = value { return nil }
        return value
    }

    /// A value the section must have: `try section.required("symbol", section.nonEmptyString)`.
    public func required<Value>(_ key: String, _ read: (String) throws(ConfigError) -> Value?) throws(ConfigError) -> Value {
        guard let value = try read(key) else { throw ConfigError(path: keyPath(key), message: "missing required value") }
        return value
    }

    func wrongType(_ key: String, _ expected: String, _ found: JSONValue) -> ConfigError {
        ConfigError(path: keyPath(key), message: "wrong type: expected \(expected), found \(found.kindName)")
    }

    public func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw wrongType(key, "a string", value) }
        return text
    }

    public func nonEmptyString(_ key: String) throws(ConfigError) -> String? {
        guard let text = try string(key) else { return nil }
        guard !text.isEmpty else { throw ConfigError(path: keyPath(key), message: "must not be empty") }
        return text
    }

    /// For optional settings: `null` clears the value (`.some(nil)`), a missing key leaves it (`nil`).
    public func nullableString(_ key: String) throws(ConfigError) -> String?? {
        guard let value = value(key) else { return nil }
        if case .null = value { return .some(nil) }
        guard case .string(let text) = value, !text.isEmpty else {
            if case .string = value { throw ConfigError(path: keyPath(key), message: "must not be empty (use null to unset)") }
            throw wrongType(key, "a string or null", value)
        }
        return .some(text)
    }

    public func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(key, "true or false", value) }
        return flag
    }

    public func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let value = value(key) else { return nil }
        let whole: Int64?
        let text: String
        switch value {
        case .int(let integer): whole = integer; text = String(integer)
        case .number(let exact): whole = ScaledDecimal(exact)?.integerValue; text = exact   // "3.0" and "1e3" are integers too
        default: throw wrongType(key, "an integer", value)
        }
        guard let whole, let number = Int(exactly: whole) else {
            throw ConfigError(path: keyPath(key), message: "wrong type: expected an integer, found \(text)")
        }
        guard range.contains(number) else {
            throw ConfigError(path: keyPath(key), message: "out of range: \(number) (allowed \(range.lowerBound)...\(range.upperBound))")
        }
        return number
    }

    /// A count that must be above zero (a dollar multiplier, a band in ticks).
    public func positiveInteger(_ key: String) throws(ConfigError) -> Int64? {
        guard let number = try integer(key, in: Int.min...Int.max) else { return nil }
        guard number > 0 else { throw ConfigError(path: keyPath(key), message: "must be a positive integer, got \(number)") }
        return Int64(number)
    }

    /// A non-money rate or speed factor.
    public func rate(_ key: String, minimum: Double, maximum: Double) throws(ConfigError) -> Double? {
        guard let value = value(key) else { return nil }
        let text: String
        switch value {
        case .int(let integer): text = String(integer)
        case .number(let exact): text = exact
        default: throw wrongType(key, "a number", value)
        }
        guard let number = Double(text) else { throw wrongType(key, "a number", value) }
        guard number >= minimum, number <= maximum else {
            throw ConfigError(path: keyPath(key), message: "out of range: \(text) (allowed \(minimum)...\(maximum))")
        }
        return number
    }

    /// An exact decimal given as a string ("0.015625"): these are prices and ticks, never JSON numbers.
    public func decimalText(_ key: String) throws(ConfigError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            throw ConfigError(path: keyPath(key), message: "wrong type: expected a decimal string such as \"0.015625\" (numbers may be rounded), found \(value.kindName)")
        }
        guard ScaledDecimal(text) != nil else { throw ConfigError(path: keyPath(key), message: "not a decimal: \"\(text)\"") }
        return text
    }

    public func oneOf(_ key: String, _ allowed: [String]) throws(ConfigError) -> String? {
        guard let text = try string(key) else { return nil }
        guard allowed.contains(text) else {
            let hint = closestName(to: text, among: allowed).map { "; did you mean '\($0)'?" } ?? ""
            throw ConfigError(path: keyPath(key), message: "bad value '\(text)'\(hint) (allowed: \(allowed.joined(separator: ", ")))")
        }
        return text
    }

    public func stringArray(_ key: String) throws(ConfigError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw wrongType(key, "an array of strings", value) }
        var strings: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item, !text.isEmpty else {
                throw ConfigError(path: "\(keyPath(key))[\(index)]", message: "wrong type: expected a non-empty string, found \(item.kindName)")
            }
            strings.append(text)
        }
        return strings
    }

    public func section(_ key: String) throws(ConfigError) -> ConfigSection? {
        guard let value = value(key) else { return nil }
        var child = try ConfigSection(value, path: keyPath(key), nullMeansAbsent: nullMeansAbsent)
        child.base = base
        return child
    }

    /// An array of objects, each a section whose path names its index: `instruments[3]`.
    public func sections(_ key: String) throws(ConfigError) -> [ConfigSection]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw wrongType(key, "an array of objects", value) }
        return try ConfigSection.sections(items, path: keyPath(key), nullMeansAbsent: nullMeansAbsent)
    }

    /// The elements of a JSON array as sections; `path` is the array's own (empty for a file
    /// that is a bare array, whose elements are then `[0]`, `[1]`…).
    public static func sections(_ items: [JSONValue], path: String, nullMeansAbsent: Bool = false) throws(ConfigError) -> [ConfigSection] {
        var sections: [ConfigSection] = []
        sections.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            sections.append(try ConfigSection(item, path: "\(path)[\(index)]", nullMeansAbsent: nullMeansAbsent))
        }
        return sections
    }
}

/// The known name nearest to a misspelling (case-insensitive equal, or within a small edit distance).
public func closestName(to word: String, among names: [String]) -> String? {
    if let same = names.first(where: { $0.lowercased() == word.lowercased() }) { return same }
    let scored = names.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, best.0.count / 3) else { return nil }
    return best.0
}

private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
