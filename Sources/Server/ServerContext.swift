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
    let authenticator: Authenticator
    let staticFiles: StaticFiles
    let metrics: ServerMetrics
    let startedAt = Monotonic.now()
    let version: String
    var httpLimits: HTTPLimits
    var webSocketLimits: WebSocketLimits
    let keepalive: WebSocketSession.Keepalive
    let httpIdleTimeout: Double
    var shuttingDown = false
    /// `serve --stream`: the publisher's state for /healthz and /metrics.
    var streamPublication: StreamPublication?
    /// `edge`: the upstream side (stream follower and state); nil on a core.
    var edgeNode: EdgeNode?
    lazy var router = Router(context: self)

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
        self.keepalive = WebSocketSession.Keepalive(pingInterval: Double(config.limits.pingIntervalSeconds),
                                                    pongTimeout: Double(config.limits.pingIntervalSeconds),
                                                    idleTimeout: Double(config.limits.idleTimeoutSeconds))
        self.httpIdleTimeout = Double(config.limits.idleTimeoutSeconds)
    }

    var uptimeSeconds: Double { Monotonic.now().seconds(since: startedAt) }
}
