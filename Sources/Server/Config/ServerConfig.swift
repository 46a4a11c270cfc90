import EventSources
import StreamEngine

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
    public var tokensFile: String? = nil        // nil: tokens.<env>.json beside the config file (or config/ of the install root) if present
    /// Anonymous access (admin in `sim`, viewer elsewhere) for every client of a loopback
    /// listener (`host` 127.0.0.1, ::1 or localhost), whatever its peer address; ignored on any
    /// other listener. Off in `uat` and `live`: behind a proxy on the same box every peer is local.
    public var allowAnonymousViewers = true
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
    /// Host header names served besides `localhost`, the loopback and listen addresses (e.g.
    /// "desk.example.com"): any other Host gets 421, so a page whose domain re-resolves to this
    /// server (DNS rebinding) is refused.
    public var allowedHosts: [String] = []
    public var tlsCert: String? = nil
    public var tlsKey: String? = nil
    public var debugLogging = false
    /// `text`: one plain line per event on stdout; `json`: one JSON object per line for log
    /// collectors (`{"time":…,"level":…,"msg":…}`). Start-up errors stay one plain line on stderr.
    public var logFormat = "text"
    /// `serve --stream redis://…`: publish every committed event to this stream (a core).
    public var stream: RedisEndpoint? = nil
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
        /// The whole request head must arrive within this many seconds of its first byte (or of
        /// the accept): slow-loris clients are answered 408 and closed.
        public var headerTimeoutSeconds: Double = 10
        /// Open connections per peer address.
        public var maxConnectionsPerAddress = 4_096
        /// Connections per peer address that have not yet sent a whole first request head (a
        /// burst of a thousand WebSocket handshakes from one NAT or load tester still fits).
        public var maxHandshakesPerAddress = 1_024
        /// Connections (all addresses) that have not yet sent a whole first request head.
        public var maxHandshakesInFlight = 4_096
        /// Request body bytes buffered across the whole server; a body that does not fit is 503.
        public var maxBufferedBodyBytes = 64 << 20
        /// New `/ws` sessions and `/ws` client commands (not pings), together, per peer address: a
        /// burst, then a rate (a session or a `subscribe` costs a snapshot). Beyond it an upgrade
        /// is answered 429 with `Retry-After: 1` and a command is dropped as `rate_limited`.
        public var viewerRequestsPerAddressBurst = 100
        public var viewerRequestsPerAddressPerSecond: Double = 20
        public init() {}
    }

    /// The install root the built-in default paths were resolved against (nil: the current
    /// directory); implied files such as `config/tokens.<env>.json` live there too.
    public var defaultsRoot: String? = nil
    /// The folder of the config file this came from (nil: no file); the implied tokens file
    /// `tokens.<env>.json` lives there.
    public var configFolder: String? = nil

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
        if let configFolder { return (configFolder + "/tokens.\(environment.rawValue).json", false) }
        return (ConfigPaths.resolve("config/tokens.\(environment.rawValue).json", against: defaultsRoot), false)
    }
}
