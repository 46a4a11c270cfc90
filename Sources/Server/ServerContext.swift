import Bytes
import HTTPCore
import Hub
import Ingest
import Reactor
import WebSocketCore

/// Everything the connection handlers share. Loop thread only (except the Sendable members).
final class ServerContext {
    let config: ServerConfig
    let loop: EventLoop
    let hub: Hub
    /// The single writer; nil on an edge, which holds no journal: `EdgeRoutes` answers every
    /// path that would need it before the router gets there.
    let pipeline: IngestPipeline!
    /// Snapshots and resumes: the pipeline on a core, the stream state on an edge.
    let source: any SubscriptionSource
    let statusBoard: StatusBoard
    /// Replaced when the token file is reloaded (SIGHUP or a change on disk).
    var authenticator: Authenticator
    let staticFiles: StaticFiles
    let metrics: ServerMetrics
    let startedAt = Monotonic.now()
    let version: String
    var httpLimits: HTTPLimits
    var webSocketLimits: WebSocketLimits
    /// `/echo` (conformance suites): messages up to 16 MiB in any number of fragments.
    var echoLimits: WebSocketLimits
    let keepalive: WebSocketSession.Keepalive
    let httpIdleTimeout: Double
    var shuttingDown = false
    /// `serve --stream`: the publisher's state for /healthz and /metrics.
    var streamPublication: StreamPublication?
    /// `edge`: the upstream side (stream follower and state); nil on a core.
    var edgeNode: EdgeNode?
    lazy var router = Router(context: self)
    // Hardening (docs/operations.md, "Security"): Host allowlist, refusal audit, slow-loris and
    // body limits.
    let hostPolicy: HostPolicy
    /// True when the listener is loopback: only then does anonymous access apply.
    let listenerIsLoopback: Bool
    let refusals: RefusalAudit
    let headerTimeout: Double
    /// Connections that have not yet sent a whole first request head, per address and in all.
    private(set) var handshakesByAddress: [String: Int] = [:]
    private(set) var handshakesInFlight = 0
    /// Request body bytes reserved (by Content-Length, before the body is read) across the server.
    private(set) var bufferedBodyBytes = 0
    /// Refused requests closed after this many on one connection.
    static let refusalsBeforeClose = 3
    /// Viewer reads (snapshots, resumes, text commands, GET /api/*) refused with "busy" once this
    /// much work waits for the ingest thread, so viewers cannot grow its queue without bound.
    static let maxQueuedReads = 10_000
    /// A subscriber whose snapshot or resume could not be queued: reconnect shortly.
    static let busyClose = CloseCode(4013)

    init(config: ServerConfig, loop: EventLoop, hub: Hub, metrics: ServerMetrics, pipeline: IngestPipeline?,
         source: any SubscriptionSource, statusBoard: StatusBoard, authenticator: Authenticator, version: String) {
        self.config = config
        self.loop = loop
        self.hub = hub
        self.metrics = metrics
        self.pipeline = pipeline
        self.source = source
        self.statusBoard = statusBoard
        self.authenticator = authenticator
        self.version = version
        self.staticFiles = StaticFiles(directory: config.staticDir)
        var limits = HTTPLimits()
        limits.allowBody(method: "POST", path: "/api/fills", maxBytes: 4 << 20)
        self.httpLimits = limits
        var wsLimits = WebSocketLimits()
        wsLimits.maxMessageBytes = config.limits.maxMessageBytes
        self.webSocketLimits = wsLimits
        var echo = WebSocketLimits()
        echo.maxMessageBytes = max(config.limits.maxMessageBytes, ServerContext.echoMaxMessageBytes)
        echo.maxFramesPerMessage = Int.max
        self.echoLimits = echo
        self.keepalive = WebSocketSession.Keepalive(pingInterval: Double(config.limits.pingIntervalSeconds),
                                                    pongTimeout: Double(config.limits.pingIntervalSeconds),
                                                    idleTimeout: Double(config.limits.idleTimeoutSeconds))
        self.httpIdleTimeout = Double(config.limits.idleTimeoutSeconds)
        self.hostPolicy = HostPolicy(listenHost: config.host, allowedHosts: config.allowedHosts)
        self.listenerIsLoopback = ServerContext.isLoopbackListener(config.host)
        self.refusals = RefusalAudit(pipeline: pipeline)
        self.headerTimeout = config.limits.headerTimeoutSeconds
    }

    /// 127.0.0.0/8, ::1 and localhost; never the wildcard addresses.
    static func isLoopbackListener(_ host: String) -> Bool {
        let name = HostPolicy.name(ofHost: host)
        return name == "localhost" || name == "::1" || (name.hasPrefix("127.") && name.split(separator: ".").count == 4)
    }

    /// The Host names served, for the banner.
    static func describeHosts(_ config: ServerConfig) -> String {
        HostPolicy(listenHost: config.host, allowedHosts: config.allowedHosts).names.sorted().joined(separator: ", ")
            + " and the address a connection arrives on"
    }

    /// Counts a new connection as a handshake in flight; false when its address or the server
    /// already has as many as allowed (the caller refuses it).
    func admitHandshake(from address: String) -> Bool {
        guard handshakesInFlight < config.limits.maxHandshakesInFlight,
              handshakesByAddress[address, default: 0] < config.limits.maxHandshakesPerAddress else { return false }
        handshakesInFlight += 1
        handshakesByAddress[address, default: 0] += 1
        return true
    }

    func finishHandshake(from address: String) {
        handshakesInFlight -= 1
        let left = handshakesByAddress[address, default: 1] - 1
        if left == 0 { handshakesByAddress.removeValue(forKey: address) } else { handshakesByAddress[address] = left }
    }

    /// Reserves room for a body about to be read; false when the server-wide budget is spent.
    func reserveBody(_ bytes: Int) -> Bool {
        guard bytes <= config.limits.maxBufferedBodyBytes - bufferedBodyBytes else { return false }
        bufferedBodyBytes += bytes
        return true
    }

    func releaseBody(_ bytes: Int) { bufferedBodyBytes -= bytes }

    /// New `/ws` sessions and client commands per address (`viewerRequestsPerAddress…`): what
    /// one host may make the loop do, however many connections it opens; loop thread.
    lazy var viewerRequests = AddressRateLimiter(perSecond: config.limits.viewerRequestsPerAddressPerSecond,
                                                    burst: config.limits.viewerRequestsPerAddressBurst)

    static let echoMaxMessageBytes = 16 << 20

    var uptimeSeconds: Double { Monotonic.now().seconds(since: startedAt) }
}
