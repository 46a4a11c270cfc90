import EventSources
import JSON

/// Typed reading of one JSON object of the config file. Every error names the full key path and
/// says what was expected and what was found; unknown keys get a did-you-mean.
struct ConfigSection {
    let path: String
    let members: [(key: String, value: JSONValue)]
    /// The folder of the file this section came from: relative file paths in it resolve there.
    var base: String? = nil

    init(_ value: JSONValue, path: String, base: String? = nil) throws(ConfigError) {
        guard case .object(let members) = value else {
            throw ConfigError(path: path, message: "wrong type: expected an object, found \(value.kindName)")
        }
        self.path = path
        self.base = base
        self.members = members.map { (key: $0.0, value: $0.1) }
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Keys starting with "//" are comments.
    func checkKeys(_ known: [String]) throws(ConfigError) {
        var seen = Set<String>()
        for (key, _) in members where !key.hasPrefix("//") {
            guard known.contains(key) else {
                let hint = closestName(to: key, among: known).map { "; did you mean '\($0)'?" } ?? ""
                throw ConfigError(path: keyPath(key), message: "unknown key\(hint) (known keys: \(known.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw ConfigError(path: keyPath(key), message: "key given twice") }
        }
    }

    func value(_ key: String) -> JSONValue? { members.last(where: { $0.key == key })?.value }

    private func wrongType(_ key: String, _ expected: String, _ found: JSONValue) -> ConfigError {
        ConfigError(path: keyPath(key), message: "wrong type: expected \(expected), found \(found.kindName)")
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw wrongType(key, "a string", value) }
        return text
    }

    func nonEmptyString(_ key: String) throws(ConfigError) -> String? {
        guard let text = try string(key) else { return nil }
        guard !text.isEmpty else { throw ConfigError(path: keyPath(key), message: "must not be empty") }
        return text
    }

    /// A file or folder path, resolved against the config file's folder (see `ConfigPaths`).
    func filePath(_ key: String) throws(ConfigError) -> String? {
        try nonEmptyString(key).map { ConfigPaths.resolve($0, against: base) }
    }

    /// `nullableString` for a path, resolved like `filePath`.
    func nullableFilePath(_ key: String) throws(ConfigError) -> String?? {
        guard let value = try nullableString(key) else { return nil }
        return .some(value.map { ConfigPaths.resolve($0, against: base) })
    }

    /// For optional settings: `null` clears the value (`.some(nil)`), a missing key leaves it (`nil`).
    func nullableString(_ key: String) throws(ConfigError) -> String?? {
        guard let value = value(key) else { return nil }
        if case .null = value { return .some(nil) }
        guard case .string(let text) = value, !text.isEmpty else {
            if case .string = value { throw ConfigError(path: keyPath(key), message: "must not be empty (use null to unset)") }
            throw wrongType(key, "a string or null", value)
        }
        return .some(text)
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(key, "true or false", value) }
        return flag
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
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

    /// A non-money rate or speed factor.
    func rate(_ key: String, minimum: Double, maximum: Double) throws(ConfigError) -> Double? {
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
    func decimalText(_ key: String) throws(ConfigError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            throw ConfigError(path: keyPath(key), message: "wrong type: expected a decimal string such as \"0.015625\" (numbers may be rounded), found \(value.kindName)")
        }
        guard ScaledDecimal(text) != nil else { throw ConfigError(path: keyPath(key), message: "not a decimal: \"\(text)\"") }
        return text
    }

    func oneOf(_ key: String, _ allowed: [String]) throws(ConfigError) -> String? {
        guard let text = try string(key) else { return nil }
        guard allowed.contains(text) else {
            let hint = closestName(to: text, among: allowed).map { "; did you mean '\($0)'?" } ?? ""
            throw ConfigError(path: keyPath(key), message: "bad value '\(text)'\(hint) (allowed: \(allowed.joined(separator: ", ")))")
        }
        return text
    }

    func stringArray(_ key: String) throws(ConfigError) -> [String]? {
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

    func section(_ key: String) throws(ConfigError) -> ConfigSection? {
        guard let value = value(key) else { return nil }
        return try ConfigSection(value, path: keyPath(key), base: base)
    }
}

/// The known name nearest to a misspelling (case-insensitive equal, or within a small edit distance).
func closestName(to word: String, among names: [String]) -> String? {
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
