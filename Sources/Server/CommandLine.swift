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
                       [--log-format text|json]
                       [--stream redis://HOST:PORT[?key=K&window=N]]   (a core: publish to a Redis Stream)
      ladderwire edge --stream redis://HOST:PORT [--core http://HOST:PORT] [--host H] [--port P] [--static DIR]
                       [--config FILE] [--env E]     (serves subscribers from the stream; holds no journal)
      ladderwire config check [--config FILE] [--env E]
      ladderwire token add NAME --role viewer|producer|admin [--accounts A,B] [--expires DURATION]
                       [--config FILE] [--env E]       (DURATION: 30d, 12h, 90m, 3600s)
      ladderwire token list | token revoke NAME [--config FILE] [--env E]
      ladderwire mark INSTRUMENT PRICE [--server URL] [--token T]     (a manual mark, e.g. ZNZ6 110-08+)
      ladderwire day-roll [--server URL] [--token T]                  (positions to the next day's SOD)
      ladderwire record --url ws://HOST:PORT [--out FILE] [--count N] [--token T]
      ladderwire backup --out FILE [--db PATH]                          (online copy, verified)
      ladderwire export fills|positions|audit [--db PATH] [--date YYYY-MM-DD] [--account A] [--format csv|ndjson] [--out FILE]
      ladderwire audit [--since T] [--kind K] [--limit N] [--db PATH]    (the audit trail, readable)
      ladderwire db check [--db PATH]                                  (integrity + journal/ledger consistency)
      ladderwire COMMAND --help                                        (one command in detail)
      ladderwire --help | --version

    The database commands read the database of the configuration (--config FILE, --env E) unless
    --db names one; they open it read-only and are safe while `serve` runs. Full guide:
    docs/operations.md.

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
                switch args.dropFirst().first {
                case "add": return try tokenAdd(args.dropFirst(2))
                case "list": return try tokenList(args.dropFirst(2))
                case "revoke": return try tokenRevoke(args.dropFirst(2))
                default: throw UsageError(message: "usage: ladderwire token add NAME --role viewer|producer|admin | token list | token revoke NAME")
                }
            case "mark", "day-roll", "record":
                return try client(command, args.dropFirst())
            case "backup", "export", "audit", "db":
                return try operation(command, args.dropFirst())
            default:
                throw UsageError(message: "unknown command '\(command)' (serve, edge, config check, token add|list|revoke, mark, day-roll, record, backup, export, audit, db check, --help, --version)")
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

    /// `--host`, `--port` and `--static`, which `serve` and `edge` share.
    static func applyListenerFlags(_ flags: Flags, to config: inout ServerConfig) throws(UsageError) {
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
    }

    static func serve(_ arguments: ArraySlice<String>, signals: ShutdownSignals?) throws(UsageError) -> Int32 {
        let flags = try Flags(arguments, valued: ["config", "env", "host", "port", "static", "db", "sources", "tls-cert", "tls-key", "log-format",
                                                  "stream"],
                              switches: ["echo"])
        if let extra = flags.positional.first { throw UsageError(message: "unexpected argument '\(extra)'") }
        var config = try loadConfig(flags)
        try applyListenerFlags(flags, to: &config)
        if let db = flags.values["db"] {
            guard !db.isEmpty else { throw UsageError(message: "--db needs a path") }
            config.databasePath = db
        }
        if let sources = flags.values["sources"] {
            config.sources = sources == "none" ? [] : sources.split(separator: ",").map(String.init)
            if config.sources.isEmpty && sources != "none" { throw UsageError(message: "--sources takes none or NAME,NAME") }
        }
        if flags.switches.contains("echo") { config.echo = true }
        if let format = flags.values["log-format"] {
            guard format == "text" || format == "json" else { throw UsageError(message: "--log-format takes text or json, got '\(format)'") }
            config.logFormat = format
        }
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
            return try ServerRunner.run(config: config, signals: signals, log: config.logFormat == "json" ? writeJSONLogLine : writeLine)
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
        try applyListenerFlags(flags, to: &config)
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
            let (at, overflow) = Int64(Date().timeIntervalSince1970).addingReportingOverflow(seconds)
            guard !overflow, let nanos = TokenStore.nanoseconds(sinceEpoch: Double(at)) else {
                throw UsageError(message: "--expires \(text) is too far in the future (the latest expiry is \(TokenStore.latestExpiryText))")
            }
            expires = nanos
        }
        let path = try tokensPath(flags)
        do {
            let token = try TokenStore.addToken(path: path, name: name, role: role, accounts: accounts, expires: expires)
            writeLine(token)
            writeError("token '\(name)' (\(role.rawValue)) added to \(path); it is shown once, only its SHA-256 is stored")
            return 0
        } catch {
            throw UsageError(message: error.description)
        }
    }

    static func tokensPath(_ flags: Flags) throws(UsageError) -> String {
        if let file = flags.values["file"] { return file }
        return try loadConfig(flags).effectiveTokensFile.path
    }

    /// `token list`: name, role, accounts and expiry of every token (never a token or its hash).
    static func tokenList(_ arguments: ArraySlice<String>) throws(UsageError) -> Int32 {
        let flags = try Flags(arguments, valued: ["config", "env", "file"], switches: [])
        if let extra = flags.positional.first { throw UsageError(message: "unexpected argument '\(extra)' (usage: ladderwire token list)") }
        let path = try tokensPath(flags)
        guard FileManager.default.fileExists(atPath: path) else {
            writeError("no tokens file at \(path)")
            return 0
        }
        let store: TokenStore
        do { store = try TokenStore(path: path) } catch { throw UsageError(message: error.description) }
        let now = Int64(Date().timeIntervalSince1970)
        writeLine("NAME\tROLE\tACCOUNTS\tEXPIRES")
        for entry in store.entries {
            var expiry = entry.expires ?? "never"
            if let text = entry.expires, let date = ISO8601DateFormatter().date(from: text), Int64(date.timeIntervalSince1970) <= now {
                expiry += " (expired)"
            }
            writeLine("\(entry.name)\t\(entry.role)\t\(entry.accounts?.joined(separator: ",") ?? "*")\t\(expiry)")
        }
        return 0
    }

    /// `token revoke NAME`: removes it from the file; a running server picks the change up (and
    /// closes that token's connections with 4001) within a second, or at once on SIGHUP.
    static func tokenRevoke(_ arguments: ArraySlice<String>) throws(UsageError) -> Int32 {
        let flags = try Flags(arguments, valued: ["config", "env", "file"], switches: [])
        guard flags.positional.count == 1, let name = flags.positional.first else {
            throw UsageError(message: "usage: ladderwire token revoke NAME")
        }
        let path = try tokensPath(flags)
        let removed: Bool
        do { removed = try TokenStore.revokeToken(path: path, name: name) } catch { throw UsageError(message: error.description) }
        guard removed else { throw UsageError(message: "tokens file \(path): no token named '\(name)'") }
        writeError("token '\(name)' revoked in \(path); a running server closes its connections within a second")
        return 0
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

    static let operationHelp: [String: String] = [
        "backup": """
        usage: ladderwire backup --out FILE [--db PATH] [--config FILE] [--env E]

        Copies the database with SQLite's online backup API while `serve` keeps running (the copy
        is the database at one instant; the server is never blocked), prints progress, then opens
        the copy and verifies it (integrity check, same epoch). FILE must not exist yet.
        Restore: stop the server, put the copy in place of the database file (delete its -wal and
        -shm files), start the server.
        """,
        "export": """
        usage: ladderwire export fills|positions|audit [--date YYYY-MM-DD] [--account A]
                                 [--format csv|ndjson] [--out FILE] [--db PATH] [--config FILE] [--env E]

          fills      every fill, oldest first: trade date, ISO time (UTC), seq, execId, account,
                     instrument, side, qty, price in the instrument's display format and as an exact
                     decimal, status (busted/corrected fills keep their row), original qty/price
          positions  positions and P&L, rebuilt from the journal (with --date: as they stood at
                     that trading day's close, 17:00 America/Chicago); money is exact dollars
          audit      the audit trail

        --date is a trading day (it starts at 17:00 America/Chicago the evening before). CSV is
        RFC 4180 with a header row and CRLF line ends (Excel opens it as it is); ndjson is one JSON
        object per row with every value a string. Output goes to stdout unless --out FILE.
        """,
        "audit": """
        usage: ladderwire audit [--since T] [--kind K] [--limit N] [--db PATH] [--config FILE] [--env E]

        Prints the audit trail, oldest first, one line per entry: time (UTC), actor, kind, detail
        and the seq it concerns. --since takes an ISO 8601 time (2026-11-24T14:30:00Z) or a date;
        --kind keeps one kind (config_load, sod, bust, correct, reject, dayroll, login_failure); --limit keeps
        the last N lines.
        """,
        "db": """
        usage: ladderwire db check [--db PATH] [--config FILE] [--env E]

        Checks the database: SQLite's integrity check; the seqs have no gaps; every fill event has
        its fill row; and the ledger restored from the newest checkpoint and replayed to the end
        equals the ledger replayed from the first event. Exit 0 when all hold, 1 with a PROBLEM
        line for each that does not. Read-only; safe while `serve` runs.
        """,
    ]

    /// `backup`, `export`, `audit`, `db check`: the operator's commands on the database file.
    static func operation(_ command: String, _ arguments: ArraySlice<String>) throws(UsageError) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            writeLine(operationHelp[command] ?? usage)
            return 0
        }
        let flags = try Flags(arguments, valued: ["db", "config", "env", "out", "date", "account", "format", "since", "kind", "limit"],
                              switches: [])
        let allowed: Set<String> = switch command {
        case "backup": ["db", "config", "env", "out"]
        case "export": ["db", "config", "env", "out", "date", "account", "format"]
        case "audit": ["db", "config", "env", "since", "kind", "limit"]
        default: ["db", "config", "env"]
        }
        if let extra = flags.values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw UsageError(message: "\(command) does not take --\(extra) (see ladderwire \(command) --help)")
        }
        let config = try loadConfig(flags)
        let database = flags.values["db"] ?? config.databasePath
        let log: @Sendable (String) -> Void = writeError
        do {
            switch command {
            case "backup":
                guard flags.positional.isEmpty, let out = flags.values["out"], !out.isEmpty else {
                    throw UsageError(message: "usage: ladderwire backup --out FILE [--db PATH] (see ladderwire backup --help)")
                }
                return try Operations.backup(database: database, out: out, log: log)
            case "export":
                guard flags.positional.count == 1, let what = flags.positional.first, ["fills", "positions", "audit"].contains(what) else {
                    throw UsageError(message: "usage: ladderwire export fills|positions|audit [--date YYYY-MM-DD] [--account A] [--format csv|ndjson] (see ladderwire export --help)")
                }
                var date: Int?
                if let text = flags.values["date"] {
                    guard let day = Operations.parseDate(text) else { throw UsageError(message: "--date takes YYYY-MM-DD, got '\(text)'") }
                    date = day
                }
                let formatText = flags.values["format"] ?? "csv"
                guard let format = Operations.Format(rawValue: formatText) else {
                    throw UsageError(message: "--format takes csv or ndjson, got '\(formatText)'")
                }
                return try Operations.export(what: what, config: config, database: database, date: date, account: flags.values["account"],
                                             format: format, out: flags.values["out"], log: log)
            case "audit":
                if let extra = flags.positional.first { throw UsageError(message: "unexpected argument '\(extra)' (see ladderwire audit --help)") }
                var since: Int64?
                if let text = flags.values["since"] {
                    guard let nanos = Operations.parseSince(text) else {
                        throw UsageError(message: "--since takes an ISO 8601 time like 2026-11-24T14:30:00Z or a date like 2026-11-24, got '\(text)'")
                    }
                    since = nanos
                }
                var limit: Int?
                if let text = flags.values["limit"] {
                    guard let n = Int(text), n > 0 else { throw UsageError(message: "--limit must be a positive number, got '\(text)'") }
                    limit = n
                }
                return try Operations.audit(database: database, since: since, kind: flags.values["kind"], limit: limit)
            default:
                guard flags.positional == ["check"] else { throw UsageError(message: "usage: ladderwire db check [--db PATH] (see ladderwire db --help)") }
                return try Operations.dbCheck(config: config, database: database, log: log)
            }
        } catch let failure as Operations.Failure {
            throw UsageError(message: failure.description)
        } catch let usage as UsageError {
            throw usage
        } catch {
            throw UsageError(message: "\(error)")
        }
    }

    static func parseDuration(_ text: String) -> Int64? {
        guard let unit = text.last, let value = Int64(text.dropLast()), value > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        default: return nil
        }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? Int64.max : seconds   // too far: refused by the caller's checked sum
    }
}
