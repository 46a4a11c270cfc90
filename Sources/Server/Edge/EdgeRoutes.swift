import HTTPCore
import JSON
import Reactor

/// What an edge answers itself before the router: writes and the fill history belong to the
/// core (an edge holds no journal, so it never accepts a write it cannot commit: it refuses
/// with 421 Misdirected Request and the core's address, it does not forward), and its own
/// /healthz and /metrics.
enum EdgeRoutes {
    static func answer(_ request: HTTPRequest, context: ServerContext) -> RouteResult? {
        guard let node = context.edgeNode else { return nil }
        switch request.path {
        case "/feed", "/api/fills", "/api/dayroll":
            let core = node.core ?? "the core"
            let what = request.path == "/api/fills" && request.method != "POST" ? "the fill history is read from" : "producers write to"
            let body = JSONValue.object([
                ("error", .string("not_the_core")),
                ("message", .string("this is an edge server, which holds no journal: \(what) the core at \(core)")),
                ("core", node.core.map { .string($0) } ?? .null),
            ])
            return .response(.json(421, body.serialized))
        case "/healthz" where request.method == "GET" || request.method == "HEAD":
            return .response(health(context, node: node))
        case "/metrics" where request.method == "GET" || request.method == "HEAD":
            return .response(metrics(context, node: node))
        default:
            return nil
        }
    }

    static func health(_ context: ServerContext, node: EdgeNode) -> HTTPResponse {
        let upstream = node.upstream
        var out = JSONBytes(reservingCapacity: 1024)
        out.openObject()
        out.key("status"); out.string(static: upstream.state == .running ? "ok" : "degraded")
        out.key("role"); out.string(static: "edge")
        out.key("version"); out.string(context.version)
        out.key("environment"); out.string(context.config.environment.rawValue)
        out.key("uptime"); out.int(Int64(context.uptimeSeconds))
        out.key("connections"); out.int(Int64(context.loop.connectionCount))
        out.key("subscribers"); out.int(Int64(context.hub.subscribers.count))
        out.key("seq"); out.int(node.state.lastSeq)
        out.key("epoch"); if let epoch = node.state.epoch { out.string(epoch) } else { out.null() }
        out.key("monitors"); out.openArray()
        for status in context.statusBoard.all { context.source.encoder.writeMonitor(status, to: &out) }
        out.closeArray()
        out.key("stream"); out.openObject()
        out.key("role"); out.string(static: "edge")
        out.key("engine"); out.string(node.follower.endpoint.description)
        out.key("state"); out.string(upstream.state == .running ? "following" : upstream.state == .starting ? "loading" : "degraded")
        out.key("error"); if let error = upstream.lastError { out.string(error) } else { out.null() }
        out.key("connected"); out.bool(node.connected)
        out.key("coreAlive"); if let alive = node.follower.coreAlive { out.bool(alive) } else { out.null() }
        out.key("core"); if let core = node.core { out.string(core) } else { out.null() }
        out.key("resumableAfter"); out.int(node.state.oldestResumable)
        out.key("refused"); out.int(Int64(node.refusals))
        out.key("loads"); out.int(Int64(node.loads))
        out.closeObject()
        out.closeObject()
        var response = HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: out.bytes)
        response.headers.add("Cache-Control", "no-store")
        return response
    }

    static func metrics(_ context: ServerContext, node: EdgeNode) -> HTTPResponse {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        let loop = context.loop
        metric("ladderwire_connections", "gauge", "Open TCP connections (the stream engine's included).", [("", "\(loop.connectionCount)")])
        metric("ladderwire_subscribers", "gauge", "Subscribers on /ws.", [("", "\(context.hub.subscribers.count)")])
        metric("ladderwire_connections_accepted_total", "counter", "Accepted TCP connections.", [("", "\(loop.acceptedTotal)")])
        metric("ladderwire_slow_consumer_disconnects_total", "counter", "Connections closed with 4008 for passing the outbound cap.", [("", "\(context.metrics.slowConsumerCloses)")])
        metric("ladderwire_messages_out_total", "counter", "Subscriber messages queued.", [("", "\(context.hub.messagesOut)")])
        metric("ladderwire_sent_bytes_total", "counter", "Bytes written to sockets.", [("", "\(loop.bytesOut)")])
        metric("ladderwire_received_bytes_total", "counter", "Bytes read from sockets.", [("", "\(loop.bytesIn)")])
        metric("ladderwire_last_seq", "gauge", "Highest seq this edge holds.", [("", "\(node.state.lastSeq)")])
        let state = node.upstream.state.rawValue
        metric("ladderwire_edge_upstream_state", "gauge", "Upstream state (1 = current): running, starting (loading), degraded.",
               ["starting", "running", "degraded"].map { ("{state=\"\($0)\"}", $0 == state ? "1" : "0") })
        metric("ladderwire_edge_stream_connected", "gauge", "1 while connected to the stream engine.", [("", node.connected ? "1" : "0")])
        metric("ladderwire_edge_core_alive", "gauge", "1 while the core's heartbeat key is present.", [("", node.follower.coreAlive == true ? "1" : "0")])
        metric("ladderwire_edge_refused_entries_total", "counter", "Upstream inputs refused (malformed, out of order, wrong epoch).", [("", "\(node.refusals)")])
        metric("ladderwire_edge_state_loads_total", "counter", "Times the state was loaded (1 at start; more after refusals or falling out of the window).", [("", "\(node.loads)")])
        metric("ladderwire_edge_rewritten_entries_total", "counter", "Entries whose messages this edge writes differently from the core (schema drift).", [("", "\(node.state.rewrittenEntries)")])
        metric("ladderwire_uptime_seconds", "gauge", "Seconds since start.", [("", "\(Int(context.uptimeSeconds))")])
        var response = HTTPResponse(status: 200, body: Array(out.utf8))
        response.headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        return response
    }
}
