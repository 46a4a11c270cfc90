/// Settings of every background monitor; which ones run is `ServerConfig.sources`.
public struct MonitorsConfig: Sendable, Equatable {
    public var replay = ReplayConfig()
    public var sim = SimulatorConfig()
    public var tt = TTConfig()
    /// Upper bound of the supervisor's exponential restart backoff.
    public var restartBackoffCapSeconds = 30
    public init() {}

    /// Names a supervisor can build; `ServerConfig.sources` must use these.
    public static let knownSources = ["replay", "sim", "tt", "ttorders", "ttrecon"]
}

/// The recorded feed (`replay` source): NDJSON lines `{"at": ISO time, <producer message>}`.
public struct ReplayConfig: Sendable, Equatable {
    public var file = "tools/feeds/sample-day.ndjson"
    /// Recorded pace multiplied by this factor; 0 replays as fast as the sink accepts.
    /// (A time scale, not money: binary floating point is fine here.)
    public var speed: Double = 1
    /// Start again at the end; later passes get execIds suffixed `~L<n>` and skip SOD lines.
    public var loop = true
    /// Send the recorded `time` (or `at`) instead of letting the server stamp receipt time.
    public var keepTimes = false
    public init() {}
}

/// One simulated instrument: a random walk on its tick grid.
public struct SimulatedInstrument: Sendable, Equatable {
    public var symbol: String
    /// Exact decimal tick, e.g. "0.015625" (ZN) or "0.25" (ES).
    public var tick: String
    /// Exact decimal starting mark, on the grid.
    public var start: String
    public init(symbol: String, tick: String, start: String) {
        self.symbol = symbol; self.tick = tick; self.start = start
    }
}

/// The simulator (`sim` source): marks, fills around them and working orders, seeded so a run
/// can be repeated.
public struct SimulatorConfig: Sendable, Equatable {
    public var accounts = ["ACC1", "ACC2", "ACC3", "DESK-HEDGE"]
    public var instruments = [
        SimulatedInstrument(symbol: "ZTZ6", tick: "0.00390625", start: "102.9453125"),
        SimulatedInstrument(symbol: "ZFZ6", tick: "0.0078125", start: "107.5078125"),
        SimulatedInstrument(symbol: "ZNZ6", tick: "0.015625", start: "110.5"),
        SimulatedInstrument(symbol: "ZBZ6", tick: "0.03125", start: "115.5625"),
        SimulatedInstrument(symbol: "ESZ6", tick: "0.25", start: "6012.25"),
    ]
    public var fillsPerSecond: Double = 2
    /// New working orders per second (limit orders a few ticks from the mark that fill when the
    /// mark reaches them, move now and then, and are cancelled); 0 = none.
    public var ordersPerSecond: Double = 0.5
    /// At most this many working orders at once.
    public var maxWorkingOrders = 8
    public var markIntervalMilliseconds = 1000
    public var maxQty: Int64 = 10
    public var seed: UInt64 = 42
    public init() {}
}

/// A TT instrument id mapped to a catalog symbol, with the factor that turns TT's `lastPx` into
/// the price in points (exact decimal text, "1" when TT already sends points).
public struct TTInstrumentMapping: Sendable, Equatable {
    public var symbol: String
    public var priceMultiplier: String
    public init(symbol: String, priceMultiplier: String = "1") {
        self.symbol = symbol; self.priceMultiplier = priceMultiplier
    }
}

/// The TT REST fill poller (`tt` source).
public struct TTConfig: Sendable, Equatable {
    /// e.g. "https://ttrestapi.trade.tt"; empty means "not configured" (an error when `tt` is enabled).
    public var baseURL = ""
    /// TT environment path segment: "ext_prod_sim", "ext_uat_cert", "ext_prod_live".
    public var environment = "ext_prod_sim"
    /// `requestId` is `<appName>-<company>--<uuid>`.
    public var appName = "ladderwire"
    public var company = "desk"
    public var pollSeconds = 5
    public var requestsPerSecond = 3
    public var tokenRefreshBufferSeconds = 600
    /// nil: `var/tt-token.<environment>.json`.
    public var tokenFile: String? = nil
    /// How far back the first poll looks when no cursor is stored.
    public var lookbackSeconds = 3600
    public var requestTimeoutSeconds = 30
    /// Cap of the backoff after network errors, 5xx, 429 and malformed replies.
    public var backoffCapSeconds = 60
    /// `ttrecon`: where a book has no fills yet today on either side and TT's start-of-day
    /// position differs, send TT's SOD as a `sod` (audited) instead of only reporting the break.
    public var seedSOD = false
    /// TT accountId → ladder account (unmapped ids are used as they are).
    public var accounts: [String: String] = [:]
    /// TT instrumentId → catalog symbol and price scaling (unmapped ids are sent as they are and
    /// rejected by the catalog, so the gap is visible).
    public var instruments: [String: TTInstrumentMapping] = [:]
    /// Only from `LADDERWIRE_TT_APP_KEY` / `LADDERWIRE_TT_APP_SECRET` or a 0600 secrets file.
    public var appKey: Secret? = nil
    public var appSecret: Secret? = nil
    public var secretsFile: String? = nil
    public init() {}

    public var effectiveTokenFile: String { tokenFile ?? "var/tt-token.\(environment).json" }
}
