import Foundation
import StreamEngine

/// The public command line (see docs/operations.md). Every bad flag or value: one line on
/// stderr and exit code 2.
public enum LadderwireCommand {
    public static let usage = """
    ladderwire — WebSocket live-push server for a trading desk

    usage:
      ladderwire serve [--config FILE] [--env sim|uat|live] [--host H] [--port P] [--static DIR]
                       [--db PATH] [--sources none|NAME,NAME] [--echo] [--tls-cert PEM --tls-key PEM]
                       [--stream redis://HOST:PORT[?key=K&window=N]]   (a core: publish to a Redis Stream)
      ladderwire edge --stream redis://HOST:PORT [--core http://HOST:PORT] [--host H] [--port P] [--static DIR]
                       [--config FILE] [--env E]     (serves subscribers from the stream; holds no journal)
      ladderwire config check [--config FILE] [--env E]
      ladderwire token add NAME --role viewer|producer|admin [--accounts A,B] [--expires DURATION]
                       [--config FILE] [--env E]       (DURATION: 30d, 12h, 90m, 3600s)
      ladderwire mark INSTRUMENT PRICE [--server URL] [--token T]     (a manual mark, e.g. ZNZ6 110-08+)
      ladderwire day-roll [--server URL] [--token T]                  (positions to the next day's SOD)
      ladderwire record --url ws://HOST:PORT [--out FILE] [--count N] [--token T]
      ladderwire --help | --version

    `serve` with no flags runs the embedded default: sim environment, database under var/,
    the demo feed replaying, loopback only.
    """

    struct UsageError: Error { var message: String }

    /// Parses `--flag value` pairs and bare `--switch`es; rejects anything unknown.
    struct Flags {
        var values: [String: String] = [:]
        var switches: Set<String> = []
        var positional: [String] = []

        init(_ arguments: ArraySlice<String>, valued: Set<String>, switches allowedSwitches: Set<String>) throws(UsageError) {
            var rest = arguments
            while let argument = rest.popFirst() {
                if argument.hasPrefix("--") {
                    var name = String(argument.dropFirst(2))
                    var inlineValue: String?
                    if let eq = name.firstIndex(of: "=") {
                        inlineValue = String(name[name.index(after: eq)...])
                        name = String(name[..<eq])
                    }
                    if valued.contains(name) {
                        guard let value = inlineValue ?? rest.popFirst(), inlineValue != nil || !value.hasPrefix("--") else {
                            throw UsageError(message: "--\(name) needs a value")
                        }
                        guard values[name] == nil else { throw UsageError(message: "--\(name) given twice") }
                        values[name] = value
                    } else if allowedSwitches.contains(name) && inlineValue == nil {
                        switches.insert(name)
                    } else {
                        throw UsageError(message: "unknown option --\(name) (see ladderwire --help)")
                    }
                } else if argument.hasPrefix("-") && argument.count > 1 {
                    throw UsageError(message: "unknown option \(argument) (see ladderwire --help)")
                } else {
                    positional.append(argument)
                }
            }
        }
    }

    public static func main(_ arguments: [String], signals: ShutdownSignals? = nil) -> Int32 {
        let args = arguments.dropFirst()
        guard let command = args.first else {
            writeError("ladderwire: missing command (try: ladderwire serve, or ladderwire --help)")
            return 2
        }
        do throws(UsageError) {
            switch command {
            case "--help", "-h", "help":
                writeLine(usage)
                return 0
            case "--version", "-V", "version":
                writeLine("ladderwire \(ladderwireVersion)")
                return 0
            case "serve":
                return try serve(args.dropFirst(), signals: signals)
            case "edge":
                return try edge(args.dropFirst(), signals: signals)
            case "config":
                guard args.dropFirst().first == "check" else { throw UsageError(message: "usage: ladderwire config check [--config FILE] [--env E]") }
                return try configCheck(args.dropFirst(2))
            case "token":
                guard args.dropFirst().first == "add" else { throw UsageError(message: "usage: ladderwire token add NAME --role viewer|producer|admin") }
                return try tokenAdd(args.dropFirst(2))
            case "mark", "day-roll", "record":
                return try client(command, args.dropFirst())
            default:
                throw UsageError(message: "unknown command '\(command)' (serve, edge, config check, token add, mark, day-roll, record, --help, --version)")
            }
        } catch {
            writeError("ladderwire: \(error.message)")
            return 2
        }
    }

    static func loadConfig(_ flags: Flags) throws(UsageError) -> ServerConfig {
        do {
            return try ConfigLoader.load(path: flags.values["config"], environment: flags.values["env"])
        } catch {
            throw UsageError(message: "config: \(error.description)")
        }
    }

    static func serve(_ arguments: ArraySlice<String>, signals: ShutdownSignals?) throws(UsageError) -> Int32 {
        let flags = try Flags(arguments, valued: ["config", "env", "host", "port", "static", "db", "sources", "tls-cert", "tls-key", "stream"],
                              switches: ["echo"])
        if let extra = flags.positional.first { throw UsageError(message: "unexpected argument '\(extra)'") }
        var config = try loadConfig(flags)
        if let host = flags.values["host"] {
            guard !host.isEmpty else { throw UsageError(message: "--host needs an address") }
            config.host = host
        }
        if let text = flags.values["port"] {
            guard let port = Int(text), (0...65535).contains(port) else { throw UsageError(message: "--port must be a number from 0 to 65535, got '\(text)'") }
            config.port = port
        }
        if let dir = flags.values["static"] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw UsageError(message: "--static \(dir): not a directory")
            }
            config.staticDir = dir
        }
        if let db = flags.values["db"] {
            guard !db.isEmpty else { throw UsageError(message: "--db needs a path") }
            config.databasePath = db
        }
        if let sources = flags.values["sources"] {
            config.sources = sources == "none" ? [] : sources.split(separator: ",").map(String.init)
            if config.sources.isEmpty && sources != "none" { throw UsageError(message: "--sources takes none or NAME,NAME") }
        }
        if flags.switches.contains("echo") { config.echo = true }
        if let stream = flags.values["stream"] {
            do { config.stream = try RedisEndpoint(parsing: stream) } catch { throw UsageError(message: error.description) }
        }
        config.tlsCert = flags.values["tls-cert"] ?? config.tlsCert
        config.tlsKey = flags.values["tls-key"] ?? config.tlsKey
        if (config.tlsCert == nil) != (config.tlsKey == nil) {
            throw UsageError(message: "--tls-cert and --tls-key go together")
        }
        do { try ConfigLoader.validate(config) } catch { throw UsageError(message: "config: \(error.description)") }
        do {
            return try ServerRunner.run(config: config, signals: signals)
        } catch {
            throw UsageError(message: error.description)
        }
    }

    /// `edge`: a subscriber-facing server fed by the stream a core publishes.
    static func edge(_ arguments: ArraySlice<String>, signals: ShutdownSignals?) throws(UsageError) -> Int32 {
        let flags = try Flags(arguments, valued: ["config", "env", "host", "port", "static", "stream", "core", "tls-cert", "tls-key"],
                              switches: [])
        if let extra = flags.positional.first { throw UsageError(message: "unexpected argument '\(extra)'") }
        guard let streamText = flags.values["stream"] else { throw UsageError(message: "edge needs --stream redis://HOST:PORT") }
        let stream: RedisEndpoint
        do { stream = try RedisEndpoint(parsing: streamText) } catch { throw UsageError(message: error.description) }
        var core: String?
        if let text = flags.values["core"] {
            guard (text.hasPrefix("http://") || text.hasPrefix("https://")), text.count > 8 else {
                throw UsageError(message: "--core takes the core's address, http://HOST:PORT, got '\(text)'")
            }
            core = text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        var config = try loadConfig(flags)
        if let host = flags.values["host"] {
            guard !host.isEmpty else { throw UsageError(message: "--host needs an address") }
            config.host = host
        }
        if let text = flags.values["port"] {
            guard let port = Int(text), (0...65535).contains(port) else { throw UsageError(message: "--port must be a number from 0 to 65535, got '\(text)'") }
            config.port = port
        }
        if let dir = flags.values["static"] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw UsageError(message: "--static \(dir): not a directory")
            }
            config.staticDir = dir
        }
        config.tlsCert = flags.values["tls-cert"] ?? config.tlsCert
        config.tlsKey = flags.values["tls-key"] ?? config.tlsKey
        if (config.tlsCert == nil) != (config.tlsKey == nil) { throw UsageError(message: "--tls-cert and --tls-key go together") }
        do {
            return try EdgeRunner.run(config: config, stream: stream, core: core, signals: signals)
        } catch {
            throw UsageError(message: error.description)
        }
    }

    static func configCheck(_ arguments: ArraySlice<String>) throws(UsageError) -> Int32 {
        let flags = try Flags(arguments, valued: ["config", "env"], switches: [])
        if let extra = flags.positional.first { throw UsageError(message: "unexpected argument '\(extra)'") }
        let config = try loadConfig(flags)
        writeLine(config.redactedDescription())
        writeLine("config ok (environment \(config.environment.rawValue))")
        return 0
    }

    static func tokenAdd(_ arguments: ArraySlice<String>) throws(UsageError) -> Int32 {
        let flags = try Flags(arguments, valued: ["role", "accounts", "expires", "config", "env", "file"], switches: [])
        guard flags.positional.count == 1, let name = flags.positional.first else {
            throw UsageError(message: "usage: ladderwire token add NAME --role viewer|producer|admin [--accounts A,B] [--expires DURATION]")
        }
        guard let roleText = flags.values["role"], let role = Principal.Role(rawValue: roleText) else {
            throw UsageError(message: "--role must be viewer, producer or admin")
        }
        let accounts = flags.values["accounts"].map { $0.split(separator: ",").map(String.init) }
        var expires: Int64?
        if let text = flags.values["expires"] {
            guard let seconds = parseDuration(text) else { throw UsageError(message: "--expires takes a duration like 30d, 12h, 90m or 3600s, got '\(text)'") }
            expires = (Int64(Date().timeIntervalSince1970) + seconds) * 1_000_000_000
        }
        let config = try loadConfig(flags)
        let path = flags.values["file"] ?? config.tokensFile ?? "config/tokens.\(config.environment.rawValue).json"
        do {
            let token = try TokenStore.addToken(path: path, name: name, role: role, accounts: accounts, expires: expires)
            writeLine(token)
            writeError("token '\(name)' (\(role.rawValue)) added to \(path); it is shown once, only its SHA-256 is stored")
            return 0
        } catch {
            throw UsageError(message: error.description)
        }
    }

    /// `mark`, `day-roll`, `record`: clients of a running server.
    static func client(_ command: String, _ arguments: ArraySlice<String>) throws(UsageError) -> Int32 {
        let flags = try Flags(arguments, valued: ["server", "token", "url", "out", "count"], switches: [])
        let server = flags.values["server"] ?? "http://127.0.0.1:8080"
        let token = flags.values["token"] ?? ProcessInfo.processInfo.environment["LADDERWIRE_TOKEN"]
        do {
            switch command {
            case "mark":
                guard flags.positional.count == 2 else { throw UsageError(message: "usage: ladderwire mark INSTRUMENT PRICE [--server URL] [--token T]") }
                return try AdminCommands.mark(server: server, instrument: flags.positional[0], price: flags.positional[1], token: token)
            case "day-roll":
                guard flags.positional.isEmpty else { throw UsageError(message: "usage: ladderwire day-roll [--server URL] [--token T]") }
                return try AdminCommands.dayRoll(server: server, token: token)
            default:
                guard let url = flags.values["url"] else { throw UsageError(message: "usage: ladderwire record --url ws://HOST:PORT [--out FILE] [--count N]") }
                var count: Int?
                if let text = flags.values["count"] {
                    guard let n = Int(text), n > 0 else { throw UsageError(message: "--count must be a positive number") }
                    count = n
                }
                return try AdminCommands.record(url: url, out: flags.values["out"] ?? "var/recorded.ndjson", token: token, count: count)
            }
        } catch let failure as AdminCommands.Failure {
            throw UsageError(message: failure.description)
        } catch let usage as UsageError {
            throw usage
        } catch {
            throw UsageError(message: "\(error)")
        }
    }

    static func parseDuration(_ text: String) -> Int64? {
        guard let unit = text.last, let value = Int64(text.dropLast()), value > 0 else { return nil }
        switch unit {
        case "s": return value
        case "m": return value * 60
        case "h": return value * 3600
        case "d": return value * 86400
        default: return nil
        }
    }
}
