import EventSources

/// The effective configuration of one `serve` run: the embedded defaults, overlaid by
/// `config/ladderwire.json` (shared section, then the chosen environment's section), overlaid
/// by command-line flags. Loading and validation live in ConfigLoader.swift.
public struct ServerConfig: Sendable, Equatable {
    public enum Environment: String, Sendable, CaseIterable { case sim, uat, live }

    public var environment: Environment = .sim
    public var host = "127.0.0.1"
    public var port = 8080
    public var staticDir = "static"
    public var databasePath = "var/ladderwire-sim.db"
    public var durability = "normal"            // "normal" or "full"
    public var instrumentsFile = "config/instruments.json"
    /// Cost methods and loss limits per account; nil: `accounts.json` beside the instruments
    /// file, if there is one (else every account is FIFO with no limit).
    public var accountsFile: String? = nil
    public var tokensFile: String? = nil        // nil: config/tokens.<env>.json if present
    public var allowAnonymousViewers = true     // only honoured on a loopback listener
    public var echo = false
    public var sources: [String] = ["replay"]   // monitor names; [] = none
    public var limits = Limits()
    public var compression = Compression()
    public var checkpointEvery = 10_000         // events between ledger checkpoints
    /// Roll positions to the next trading day at 17:00 America/Chicago on its own. Off in the
    /// default sim environment (the demo and the tests must not roll mid-run); on in uat/live.
    public var scheduledDayRoll = false
    /// Browser origins (e.g. "https://desk.example.com") allowed besides the server's own: a
    /// page from anywhere else cannot open `/ws` or `/feed` or POST fills with the trader's
    /// browser (cross-site WebSocket hijacking), even on loopback.
    public var allowedOrigins: [String] = []
    public var tlsCert: String? = nil
    public var tlsKey: String? = nil
    public var debugLogging = false
    /// Settings of each background monitor (`replay`, `sim`, `tt`); `sources` says which run.
    public var monitors = MonitorsConfig()

    /// permessage-deflate (RFC 7692) per WebSocket endpoint: `off` declines the offer, `auto`
    /// accepts it and compresses outgoing messages of at least `minBytes` that come out smaller,
    /// `on` accepts it and compresses every outgoing data message.
    public struct Compression: Sendable, Equatable {
        public enum Mode: String, Sendable, Equatable, CaseIterable { case off, on, auto }
        public var ws = Mode.auto
        public var feed = Mode.auto
        public var echo = Mode.auto
        public var minBytes = 128

        /// The smallest payload compressed under `mode` (nil: the offer is declined).
        public func minimumBytes(_ mode: Mode) -> Int? {
            switch mode {
            case .off: return nil
            case .on: return 0
            case .auto: return minBytes
            }
        }
    }

    public struct Limits: Sendable, Equatable {
        public var maxConnections = 20_000
        public var outboundCapBytes = 1 << 20
        public var maxMessageBytes = 1 << 20
        public var idleTimeoutSeconds = 120
        public var pingIntervalSeconds = 20
        public var heartbeatSeconds = 5
        public var snapshotFills = 200
        public var maxResumeEvents = 200_000
        /// A TLS client must finish its handshake within this many seconds.
        public var tlsHandshakeTimeoutSeconds: Double = 10
        public init() {}
    }

    public init() {}

    /// The accounts file this run reads, and whether it must exist (named explicitly).
    public var effectiveAccountsFile: (path: String, required: Bool) {
        if let accountsFile { return (accountsFile, true) }
        let folder = instrumentsFile.contains("/") ? String(instrumentsFile[..<instrumentsFile.lastIndex(of: "/")!]) : "."
        return (folder + "/accounts.json", false)
    }

    /// The tokens file this run reads, and whether it must exist (named explicitly).
    public var effectiveTokensFile: (path: String, required: Bool) {
        if let tokensFile { return (tokensFile, true) }
        return ("config/tokens.\(environment.rawValue).json", false)
    }
}
