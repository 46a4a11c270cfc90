import ConfigFiles
import EventSources
import JSON

/// The keys a `shared`/`sim`/`uat`/`live` section may hold, and how each overlays a ServerConfig.
/// A section sets only what it names, so `shared` then the environment's section layer cleanly.
enum ConfigSchema {
    static let sectionKeys = ["host", "port", "staticDir", "databasePath", "durability", "instrumentsFile", "accountsFile", "tokensFile",
                              "allowAnonymousViewers", "echo", "sources", "limits", "checkpointEvery", "scheduledDayRoll", "allowedOrigins", "tlsCert", "tlsKey",
                              "debugLogging", "logFormat", "compression"]
    static let compressionKeys = ["ws", "feed", "echo", "minBytes"]
    static let limitKeys = ["maxConnections", "outboundCapBytes", "maxMessageBytes", "idleTimeoutSeconds",
                            "pingIntervalSeconds", "heartbeatSeconds", "snapshotFills", "maxResumeEvents",
                            "tlsHandshakeTimeoutSeconds"]
    /// Hardening keys (Host allowlist, connection and body limits), kept apart from the lists above.
    static let securitySectionKeys = ["allowedHosts"]
    static let securityLimitKeys = ["headerTimeoutSeconds", "maxConnectionsPerAddress", "maxHandshakesPerAddress",
                                    "maxHandshakesInFlight", "maxBufferedBodyBytes", "viewerRequestsPerAddressBurst",
                                    "viewerRequestsPerAddressPerSecond"]
    static let sourcesKeys = ["enabled", "restartBackoffCapSeconds", "replay", "sim", "tt"]
    static let replayKeys = ["file", "speed", "loop", "keepTimes"]
    static let simKeys = ["accounts", "instruments", "fillsPerSecond", "ordersPerSecond", "maxWorkingOrders",
                          "markIntervalMilliseconds", "maxQty", "seed"]
    static let simInstrumentKeys = ["symbol", "tick", "start"]
    static let ttKeys = ["baseURL", "environment", "appName", "company", "pollSeconds", "requestsPerSecond",
                         "tokenRefreshBufferSeconds", "tokenFile", "lookbackSeconds", "requestTimeoutSeconds",
                         "backoffCapSeconds", "accounts", "instruments", "secretsFile", "seedSOD"]
    static let ttInstrumentKeys = ["symbol", "priceMultiplier"]
    static let ttEnvironments = ["ext_prod_sim", "ext_uat_cert", "ext_prod_live"]

    static func apply(_ section: ConfigSection, to config: inout ServerConfig) throws(ConfigError) {
        try section.checkKeys(sectionKeys + securitySectionKeys)
        if let host = try section.nonEmptyString("host") { config.host = host }
        if let port = try section.integer("port", in: 0...65_535) { config.port = port }
        if let dir = try section.filePath("staticDir") { config.staticDir = dir }
        if let path = try section.filePath("databasePath") { config.databasePath = path }
        if let durability = try section.oneOf("durability", ["normal", "full"]) { config.durability = durability }
        if let file = try section.filePath("instrumentsFile") { config.instrumentsFile = file }
        if let file = try section.nullableFilePath("accountsFile") { config.accountsFile = file }
        if let file = try section.nullableFilePath("tokensFile") { config.tokensFile = file }
        if let flag = try section.bool("allowAnonymousViewers") { config.allowAnonymousViewers = flag }
        if let flag = try section.bool("echo") { config.echo = flag }
        if let flag = try section.bool("scheduledDayRoll") { config.scheduledDayRoll = flag }
        if let origins = try section.stringArray("allowedOrigins") { config.allowedOrigins = origins }
        if let hosts = try section.stringArray("allowedHosts") { config.allowedHosts = hosts }
        if let every = try section.integer("checkpointEvery", in: 1...100_000_000) { config.checkpointEvery = every }
        if let cert = try section.nullableFilePath("tlsCert") { config.tlsCert = cert }
        if let key = try section.nullableFilePath("tlsKey") { config.tlsKey = key }
        if let flag = try section.bool("debugLogging") { config.debugLogging = flag }
        if let format = try section.oneOf("logFormat", ["text", "json"]) { config.logFormat = format }
        if let limits = try section.section("limits") { try apply(limits: limits, to: &config.limits) }
        if let compression = try section.section("compression") { try apply(compression: compression, to: &config.compression) }
        if let sources = try section.section("sources") { try apply(sources: sources, to: &config) }
    }

    static func apply(limits: ConfigSection, to target: inout ServerConfig.Limits) throws(ConfigError) {
        try limits.checkKeys(limitKeys + securityLimitKeys)
        let big = 1...Int(Int32.max)
        if let value = try limits.integer("maxConnections", in: big) { target.maxConnections = value }
        if let value = try limits.integer("outboundCapBytes", in: 1024...Int(Int32.max)) { target.outboundCapBytes = value }
        if let value = try limits.integer("maxMessageBytes", in: 125...Int(Int32.max)) { target.maxMessageBytes = value }
        if let value = try limits.integer("idleTimeoutSeconds", in: 1...86_400) { target.idleTimeoutSeconds = value }
        if let value = try limits.integer("pingIntervalSeconds", in: 1...3600) { target.pingIntervalSeconds = value }
        if let value = try limits.integer("heartbeatSeconds", in: 1...3600) { target.heartbeatSeconds = value }
        if let value = try limits.integer("snapshotFills", in: 0...100_000) { target.snapshotFills = value }
        if let value = try limits.integer("maxResumeEvents", in: 0...Int(Int32.max)) { target.maxResumeEvents = value }
        if let value = try limits.rate("tlsHandshakeTimeoutSeconds", minimum: 0.1, maximum: 300) { target.tlsHandshakeTimeoutSeconds = value }
        if let value = try limits.rate("headerTimeoutSeconds", minimum: 0.5, maximum: 300) { target.headerTimeoutSeconds = value }
        if let value = try limits.integer("maxConnectionsPerAddress", in: big) { target.maxConnectionsPerAddress = value }
        if let value = try limits.integer("maxHandshakesPerAddress", in: big) { target.maxHandshakesPerAddress = value }
        if let value = try limits.integer("maxHandshakesInFlight", in: big) { target.maxHandshakesInFlight = value }
        if let value = try limits.integer("maxBufferedBodyBytes", in: 4096...Int(Int32.max)) { target.maxBufferedBodyBytes = value }
        if let value = try limits.integer("viewerRequestsPerAddressBurst", in: 1...10_000_000) { target.viewerRequestsPerAddressBurst = value }
        if let value = try limits.rate("viewerRequestsPerAddressPerSecond", minimum: 0.01, maximum: 1_000_000) {
            target.viewerRequestsPerAddressPerSecond = value
        }
    }

    static func apply(compression: ConfigSection, to target: inout ServerConfig.Compression) throws(ConfigError) {
        try compression.checkKeys(compressionKeys)
        let modes = ServerConfig.Compression.Mode.allCases.map(\.rawValue)
        if let mode = try compression.oneOf("ws", modes) { target.ws = .init(rawValue: mode)! }
        if let mode = try compression.oneOf("feed", modes) { target.feed = .init(rawValue: mode)! }
        if let mode = try compression.oneOf("echo", modes) { target.echo = .init(rawValue: mode)! }
        if let bytes = try compression.integer("minBytes", in: 0...(1 << 20)) { target.minBytes = bytes }
    }

    static func apply(sources: ConfigSection, to config: inout ServerConfig) throws(ConfigError) {
        try sources.checkKeys(sourcesKeys)
        if let enabled = try sources.stringArray("enabled") {
            for (index, name) in enabled.enumerated() where !MonitorsConfig.knownSources.contains(name) {
                let hint = closestName(to: name, among: MonitorsConfig.knownSources).map { "; did you mean '\($0)'?" } ?? ""
                throw ConfigError(path: "\(sources.keyPath("enabled"))[\(index)]",
                                  message: "bad value '\(name)'\(hint) (allowed: \(MonitorsConfig.knownSources.joined(separator: ", ")))")
            }
            config.sources = enabled
        }
        if let cap = try sources.integer("restartBackoffCapSeconds", in: 1...3600) { config.monitors.restartBackoffCapSeconds = cap }
        if let replay = try sources.section("replay") { try apply(replay: replay, to: &config.monitors.replay) }
        if let sim = try sources.section("sim") { try apply(sim: sim, to: &config.monitors.sim) }
        if let tt = try sources.section("tt") { try apply(tt: tt, to: &config.monitors.tt) }
    }

    static func apply(replay: ConfigSection, to target: inout ReplayConfig) throws(ConfigError) {
        try replay.checkKeys(replayKeys)
        if let file = try replay.filePath("file") { target.file = file }
        if let speed = try replay.rate("speed", minimum: 0, maximum: 1_000_000) { target.speed = speed }
        if let loop = try replay.bool("loop") { target.loop = loop }
        if let keep = try replay.bool("keepTimes") { target.keepTimes = keep }
    }

    static func apply(sim: ConfigSection, to target: inout SimulatorConfig) throws(ConfigError) {
        try sim.checkKeys(simKeys)
        if let accounts = try sim.stringArray("accounts") {
            guard !accounts.isEmpty else { throw ConfigError(path: sim.keyPath("accounts"), message: "must name at least one account") }
            target.accounts = accounts
        }
        if let value = sim.value("instruments") {
            guard case .array(let items) = value, !items.isEmpty else {
                throw ConfigError(path: sim.keyPath("instruments"), message: "wrong type: expected a non-empty array of {symbol, tick, start}, found \(value.kindName)")
            }
            var instruments: [SimulatedInstrument] = []
            for (index, item) in items.enumerated() {
                let entry = try ConfigSection(item, path: "\(sim.keyPath("instruments"))[\(index)]")
                try entry.checkKeys(simInstrumentKeys)
                guard let symbol = try entry.nonEmptyString("symbol") else { throw missing(entry.keyPath("symbol")) }
                guard let tick = try entry.decimalText("tick") else { throw missing(entry.keyPath("tick")) }
                guard let start = try entry.decimalText("start") else { throw missing(entry.keyPath("start")) }
                guard let tickValue = ScaledDecimal(tick), tickValue.units > 0 else {
                    throw ConfigError(path: entry.keyPath("tick"), message: "must be positive")
                }
                guard ScaledDecimal(start)?.wholeMultiple(of: tickValue) != nil else {
                    throw ConfigError(path: entry.keyPath("start"), message: "\(start) is not on the \(tick) tick grid")
                }
                instruments.append(SimulatedInstrument(symbol: symbol, tick: tick, start: start))
            }
            target.instruments = instruments
        }
        if let rate = try sim.rate("fillsPerSecond", minimum: 0, maximum: 10_000) { target.fillsPerSecond = rate }
        if let rate = try sim.rate("ordersPerSecond", minimum: 0, maximum: 10_000) { target.ordersPerSecond = rate }
        if let count = try sim.integer("maxWorkingOrders", in: 0...1_000) { target.maxWorkingOrders = count }
        if let every = try sim.integer("markIntervalMilliseconds", in: 10...3_600_000) { target.markIntervalMilliseconds = every }
        if let qty = try sim.integer("maxQty", in: 1...1_000_000) { target.maxQty = Int64(qty) }
        if let seed = try sim.integer("seed", in: 0...Int.max) { target.seed = UInt64(seed) }
    }

    static func apply(tt: ConfigSection, to target: inout TTConfig) throws(ConfigError) {
        for secretKey in ["appKey", "appSecret", "app_key", "secret", "apiKey"] where tt.value(secretKey) != nil {
            throw ConfigError(path: tt.keyPath(secretKey),
                              message: "secrets are never read from the config file: set LADDERWIRE_TT_APP_KEY and LADDERWIRE_TT_APP_SECRET, or name a 0600 file in secretsFile")
        }
        try tt.checkKeys(ttKeys)
        if let url = try tt.string("baseURL") {
            guard url.isEmpty || url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw ConfigError(path: tt.keyPath("baseURL"), message: "must start with https:// (or http:// for a local test server), got '\(url)'")
            }
            target.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let environment = try tt.oneOf("environment", ttEnvironments) { target.environment = environment }
        if let name = try tt.nonEmptyString("appName") { target.appName = name }
        if let company = try tt.nonEmptyString("company") { target.company = company }
        if let seconds = try tt.integer("pollSeconds", in: 1...3600) { target.pollSeconds = seconds }
        if let rate = try tt.integer("requestsPerSecond", in: 1...25) { target.requestsPerSecond = rate }
        if let buffer = try tt.integer("tokenRefreshBufferSeconds", in: 0...86_400) { target.tokenRefreshBufferSeconds = buffer }
        if let file = try tt.nullableFilePath("tokenFile") { target.tokenFile = file }
        if let seconds = try tt.integer("lookbackSeconds", in: 1...(30 * 86_400)) { target.lookbackSeconds = seconds }
        if let seconds = try tt.integer("requestTimeoutSeconds", in: 1...600) { target.requestTimeoutSeconds = seconds }
        if let seconds = try tt.integer("backoffCapSeconds", in: 1...3600) { target.backoffCapSeconds = seconds }
        if let file = try tt.nullableFilePath("secretsFile") { target.secretsFile = file }
        if let seed = try tt.bool("seedSOD") { target.seedSOD = seed }
        if let accounts = try tt.section("accounts") {
            for (id, value) in accounts.members where !id.hasPrefix("//") {
                guard case .string(let account) = value, !account.isEmpty else {
                    throw ConfigError(path: accounts.keyPath(id), message: "wrong type: expected a non-empty account name, found \(value.kindName)")
                }
                target.accounts[id] = account
            }
        }
        if let instruments = try tt.section("instruments") {
            for (id, value) in instruments.members where !id.hasPrefix("//") {
                let entry = try ConfigSection(value, path: instruments.keyPath(id))
                try entry.checkKeys(ttInstrumentKeys)
                guard let symbol = try entry.nonEmptyString("symbol") else { throw missing(entry.keyPath("symbol")) }
                let multiplier = try entry.decimalText("priceMultiplier") ?? "1"
                target.instruments[id] = TTInstrumentMapping(symbol: symbol, priceMultiplier: multiplier)
            }
        }
    }

    static func missing(_ path: String) -> ConfigError {
        ConfigError(path: path, message: "missing required value")
    }
}
