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
    let pipeline: IngestPipeline
    let statusBoard: StatusBoard
    let authenticator: Authenticator
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
    lazy var router = Router(context: self)

    init(config: ServerConfig, loop: EventLoop, hub: Hub, metrics: ServerMetrics, pipeline: IngestPipeline,
         statusBoard: StatusBoard, authenticator: Authenticator, version: String) {
        self.config = config
        self.loop = loop
        self.hub = hub
        self.metrics = metrics
        self.pipeline = pipeline
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
    }

    static let echoMaxMessageBytes = 16 << 20

    var uptimeSeconds: Double { Monotonic.now().seconds(since: startedAt) }
}
