import HTTPCore
import Hub
import Ingest
import Reactor
import Synchronization
import WebSocketCore

/// Latest status of every monitor; written by monitor threads, read by the loop and the pipeline.
public final class StatusBoard: MonitorStatusSink, Sendable {
    private let statuses = Mutex<[String: MonitorStatus]>([:])
    private let onChange: @Sendable (MonitorStatus) -> Void

    public init(onChange: @escaping @Sendable (MonitorStatus) -> Void = { _ in }) { self.onChange = onChange }

    public func report(_ status: MonitorStatus) {
        let changed = statuses.withLock { all -> Bool in
            let previous = all[status.name]
            all[status.name] = status
            return previous?.state != status.state || previous?.lastError != status.lastError
        }
        if changed { onChange(status) }
    }

    public var all: [MonitorStatus] { statuses.withLock { $0.values.sorted { $0.name < $1.name } } }
}

/// Counters kept on the loop thread for /metrics.
final class ServerMetrics {
    var httpRequests = 0
    var httpErrors = 0
    var protocolErrors = 0
    var slowConsumerCloses = 0
    var authFailures = 0
    var producerMessages = 0
    var webSocketsOpened = 0
    /// Event-to-push latency: commit of an event → frames queued on the loop, microsecond buckets.
    static let pushBucketsMicros: [Int] = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000]
    var pushBuckets = [Int](repeating: 0, count: ServerMetrics.pushBucketsMicros.count + 1)
    var pushMicrosTotal = 0
    var pushCount = 0

    func recordPush(micros: Int) {
        let index = Self.pushBucketsMicros.firstIndex { micros <= $0 } ?? Self.pushBucketsMicros.count
        pushBuckets[index] += 1
        pushMicrosTotal += micros
        pushCount += 1
    }
}

/// Everything the connection handlers share. Loop thread only (except the Sendable members).
final class ServerContext {
    let config: ServerConfig
    let loop: EventLoop
    let hub = Hub()
    let pipeline: IngestPipeline
    let statusBoard: StatusBoard
    let authenticator: Authenticator
    let staticFiles: StaticFiles
    let metrics = ServerMetrics()
    let startedAt = Monotonic.now()
    let version: String
    var httpLimits: HTTPLimits
    var webSocketLimits: WebSocketLimits
    let keepalive: WebSocketSession.Keepalive
    let httpIdleTimeout: Double
    var shuttingDown = false
    lazy var router = Router(context: self)

    init(config: ServerConfig, loop: EventLoop, pipeline: IngestPipeline, statusBoard: StatusBoard,
         authenticator: Authenticator, version: String) {
        self.config = config
        self.loop = loop
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
        self.keepalive = WebSocketSession.Keepalive(pingInterval: Double(config.limits.pingIntervalSeconds),
                                                    pongTimeout: Double(config.limits.pingIntervalSeconds),
                                                    idleTimeout: Double(config.limits.idleTimeoutSeconds))
        self.httpIdleTimeout = Double(config.limits.idleTimeoutSeconds)
    }

    var uptimeSeconds: Double { Monotonic.now().seconds(since: startedAt) }
}
