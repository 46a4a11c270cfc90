import Glibc

/// The flags of one subcommand (`--name value` or `--flag`), checked against the names it accepts
/// so a typo is a one-line error instead of a silently ignored setting.
struct BenchOptions {
    let command: String
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    init(command: String, arguments: [String], valued: Set<String>, switches: Set<String>) {
        self.command = command
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { Self.fail("\(command): unexpected argument '\(argument)'") }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if switches.contains(name), inlineValue == nil {
                flags.insert(name)
            } else if valued.contains(name) {
                if let inlineValue {
                    values[name] = inlineValue
                } else {
                    index += 1
                    guard index < arguments.count else { Self.fail("\(command): --\(name) needs a value") }
                    values[name] = arguments[index]
                }
            } else {
                Self.fail("\(command): unknown option --\(name)")
            }
            index += 1
        }
    }

    func string(_ name: String) -> String? { values[name] }

    func string(_ name: String, default fallback: String) -> String { values[name] ?? fallback }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func int(_ name: String, default fallback: Int, minimum: Int = 0) -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), value >= minimum else {
            Self.fail("\(command): --\(name) must be an integer ≥ \(minimum), got '\(text)'")
        }
        return value
    }

    /// Rates are written `1000` or `1000/s` or `10k/s`.
    func rate(_ name: String, default fallback: Int) -> Int {
        guard var text = values[name] else { return fallback }
        if text.hasSuffix("/s") { text.removeLast(2) }
        var multiplier = 1
        if text.hasSuffix("k") { text.removeLast(); multiplier = 1000 }
        guard let value = Int(text), value > 0 else { Self.fail("\(command): --\(name) must be a positive rate like 1000/s") }
        return value * multiplier
    }

    /// Seconds may be fractional on the command line; kept as nanoseconds.
    func nanoseconds(_ name: String, defaultSeconds: Int) -> Int64 {
        guard let text = values[name] else { return Int64(defaultSeconds) * 1_000_000_000 }
        guard let seconds = Double(text), seconds > 0 else { Self.fail("\(command): --\(name) must be a positive number of seconds") }
        return Int64(seconds * 1_000_000_000)
    }

    static func fail(_ message: String) -> Never {
        writeError("ladderwire-bench: \(message)\n")
        exit(2)
    }
}

/// Writes a line to standard error (fd 2 directly: the C `stderr` global is not concurrency-safe).
func writeError(_ text: String) {
    var bytes = Array(text.utf8)
    if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
