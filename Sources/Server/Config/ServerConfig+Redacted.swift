import EventSources
import JSON

extension ServerConfig {
    /// The effective configuration as indented JSON, in the file's key names, with every secret
    /// shown as "****" (or null when unset): what `ladderwire config check` prints and what is
    /// safe to log.
    public func redactedDescription() -> String { redactedJSON().prettyRendered }

    public func redactedJSON() -> JSONValue {
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        func number(_ value: Int) -> JSONValue { .int(Int64(value)) }
        func rate(_ value: Double) -> JSONValue {
            value == value.rounded() && abs(value) < 1e15 ? .int(Int64(value)) : .number(String(value))
        }
        func masked(_ secret: Secret?) -> JSONValue { secret == nil ? .null : .string("****") }
        let tt = monitors.tt
        return .object([
            ("environment", .string(environment.rawValue)),
            ("host", .string(host)),
            ("port", number(port)),
            ("staticDir", .string(staticDir)),
            ("databasePath", .string(databasePath)),
            ("durability", .string(durability)),
            ("instrumentsFile", .string(instrumentsFile)),
            ("accountsFile", text(accountsFile)),
            ("tokensFile", text(tokensFile)),
            ("allowAnonymousViewers", .bool(allowAnonymousViewers)),
            ("echo", .bool(echo)),
            ("checkpointEvery", number(checkpointEvery)),
            ("scheduledDayRoll", .bool(scheduledDayRoll)),
            ("allowedOrigins", .array(allowedOrigins.map { .string($0) })),
            ("allowedHosts", .array(allowedHosts.map { .string($0) })),
            ("tlsCert", text(tlsCert)),
            ("tlsKey", text(tlsKey)),
            ("debugLogging", .bool(debugLogging)),
            ("logFormat", .string(logFormat)),
            ("limits", .object([
                ("maxConnections", number(limits.maxConnections)),
                ("outboundCapBytes", number(limits.outboundCapBytes)),
                ("maxMessageBytes", number(limits.maxMessageBytes)),
                ("idleTimeoutSeconds", number(limits.idleTimeoutSeconds)),
                ("pingIntervalSeconds", number(limits.pingIntervalSeconds)),
                ("heartbeatSeconds", number(limits.heartbeatSeconds)),
                ("snapshotFills", number(limits.snapshotFills)),
                ("maxResumeEvents", number(limits.maxResumeEvents)),
                ("tlsHandshakeTimeoutSeconds", rate(limits.tlsHandshakeTimeoutSeconds)),
                ("headerTimeoutSeconds", rate(limits.headerTimeoutSeconds)),
                ("maxConnectionsPerAddress", number(limits.maxConnectionsPerAddress)),
                ("maxHandshakesPerAddress", number(limits.maxHandshakesPerAddress)),
                ("maxHandshakesInFlight", number(limits.maxHandshakesInFlight)),
                ("maxBufferedBodyBytes", number(limits.maxBufferedBodyBytes)),
                ("viewerRequestsPerAddressBurst", number(limits.viewerRequestsPerAddressBurst)),
                ("viewerRequestsPerAddressPerSecond", rate(limits.viewerRequestsPerAddressPerSecond)),
            ])),
            ("compression", .object([
                ("ws", .string(compression.ws.rawValue)),
                ("feed", .string(compression.feed.rawValue)),
                ("echo", .string(compression.echo.rawValue)),
                ("minBytes", number(compression.minBytes)),
            ])),
            ("sources", .object([
                ("enabled", .array(sources.map { .string($0) })),
                ("restartBackoffCapSeconds", number(monitors.restartBackoffCapSeconds)),
                ("replay", .object([
                    ("file", .string(monitors.replay.file)),
                    ("speed", rate(monitors.replay.speed)),
                    ("loop", .bool(monitors.replay.loop)),
                    ("keepTimes", .bool(monitors.replay.keepTimes)),
                ])),
                ("sim", .object([
                    ("accounts", .array(monitors.sim.accounts.map { .string($0) })),
                    ("instruments", .array(monitors.sim.instruments.map {
                        .object([("symbol", .string($0.symbol)), ("tick", .string($0.tick)), ("start", .string($0.start))])
                    })),
                    ("fillsPerSecond", rate(monitors.sim.fillsPerSecond)),
                    ("ordersPerSecond", rate(monitors.sim.ordersPerSecond)),
                    ("maxWorkingOrders", number(monitors.sim.maxWorkingOrders)),
                    ("markIntervalMilliseconds", number(monitors.sim.markIntervalMilliseconds)),
                    ("maxQty", .int(monitors.sim.maxQty)),
                    ("seed", Int64(exactly: monitors.sim.seed).map { .int($0) } ?? .number(String(monitors.sim.seed))),
                ])),
                ("tt", .object([
                    ("baseURL", .string(tt.baseURL)),
                    ("environment", .string(tt.environment)),
                    ("appName", .string(tt.appName)),
                    ("company", .string(tt.company)),
                    ("pollSeconds", number(tt.pollSeconds)),
                    ("requestsPerSecond", number(tt.requestsPerSecond)),
                    ("tokenRefreshBufferSeconds", number(tt.tokenRefreshBufferSeconds)),
                    ("tokenFile", .string(tt.effectiveTokenFile)),
                    ("lookbackSeconds", number(tt.lookbackSeconds)),
                    ("requestTimeoutSeconds", number(tt.requestTimeoutSeconds)),
                    ("backoffCapSeconds", number(tt.backoffCapSeconds)),
                    ("accounts", .object(tt.accounts.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                    ("instruments", .object(tt.instruments.sorted { $0.key < $1.key }.map {
                        ($0.key, .object([("symbol", .string($0.value.symbol)), ("priceMultiplier", .string($0.value.priceMultiplier))]))
                    })),
                    ("secretsFile", text(tt.secretsFile)),
                    ("seedSOD", .bool(tt.seedSOD)),
                    ("appKey", masked(tt.appKey)),
                    ("appSecret", masked(tt.appSecret)),
                ])),
            ])),
        ])
    }
}
