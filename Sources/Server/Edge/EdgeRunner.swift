import Bytes
import ConfigFiles
import Dispatch
import Foundation
import Glibc
import Hub
import Ledger
import Reactor
import StreamEngine
import Wire

/// Wires one `edge` run: instruments and tokens (the same config files as the core) → loop →
/// hub → stream follower → listeners → signals. No journal, no pipeline.
public enum EdgeRunner {
    public static func run(config: ServerConfig, stream: RedisEndpoint, core: String?, signals: ShutdownSignals?,
                           log: @escaping @Sendable (String) -> Void = writeLine) throws(ServerRunner.StartupError) -> Int32 {
        let catalog: InstrumentCatalog
        do { catalog = try InstrumentsFile.load(path: config.instrumentsFile) } catch {
            throw ServerRunner.StartupError(description: "instruments file \(error)")
        }
        let tls = try ServerRunner.loadTLSContext(config)
        let tokens = try ServerRunner.loadTokens(config)
        let anonymousRole: Principal.Role? = config.allowAnonymousViewers ? .viewer : nil
        let loop = try ServerRunner.makeLoop(config)
        let hub = Hub(), metrics = ServerMetrics()
        let hubBound = LoopBound(hub, on: loop)
        let encoder = MessageEncoder(catalog: catalog)
        let statusBoard = StatusBoard { status in
            let message = encoder.statusMessage(status)
            hubBound.post { $0.broadcast(message) }
        }
        let state = EdgeState(encoder: encoder, snapshotFills: config.limits.snapshotFills, retain: stream.window)
        let follower = RedisStreamFollower(endpoint: stream, loop: loop, log: log)
        let environment = ProcessInfo.processInfo.environment
        let node = EdgeNode(state: state, follower: follower, core: core,
                            coreToken: environment["LADDERWIRE_CORE_TOKEN"] ?? environment["LADDERWIRE_TOKEN"],
                            hub: hub, loop: loop, statusBoard: statusBoard, log: log)
        let context = ServerContext(config: config, loop: loop, hub: hub, metrics: metrics, pipeline: nil,
                                    source: EdgeSource(node: node), statusBoard: statusBoard,
                                    authenticator: Authenticator(tokens: tokens, anonymousRole: anonymousRole), version: ladderwireVersion)
        context.edgeNode = node
        let port: Int
        do {
            port = try loop.listen(host: config.host, port: config.port, tls: tls) { connection in
                connection.handler = HTTPSession(context: context, connection: connection)
            }
        } catch {
            throw ServerRunner.StartupError(description: "\(error)")
        }
        node.start()
        if let signals {
            var draining = false
            loop.watchSignals(fd: signals.fd) { signalNumber in
                guard signalNumber == SIGINT || signalNumber == SIGTERM else { return }
                if draining { exit(1) }
                draining = true
                log("shutting down: closing clients with 1001")
                node.stop()
                ServerRunner.beginDrain(context, log: log)
            }
        }
        let hostForURL = config.host.contains(":") ? "[\(config.host)]" : config.host
        let (http, ws) = tls == nil ? ("http", "ws") : ("https", "wss")
        log("ladderwire \(ladderwireVersion) edge — environment \(config.environment.rawValue), following \(stream) (no journal)")
        log(core.map { "state loaded from the core at \($0); writes go there (this edge answers them 421)" }
            ?? "no --core: the state is rebuilt from the stream, which must still hold seq 1; writes are answered 421")
        if anonymousRole != nil { log("WARNING: anonymous viewer access is allowed for loopback clients (allowAnonymousViewers)") }
        log("listening on \(http)://\(hostForURL):\(port)")
        log("open \(http)://\(hostForURL):\(port)/ in a browser, or watch in a terminal: wscat -c '\(ws)://\(hostForURL):\(port)/ws?format=text'")
        loop.run()
        log("stopped cleanly")
        return 0
    }
}
