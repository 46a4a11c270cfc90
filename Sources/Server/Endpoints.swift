import HTTPCore
import Hub
import Ingest
import Wire
import JSON
import Reactor

/// `/healthz` and `/metrics`: answered on the loop from counters, never blocking on the pipeline.
/// Both are open to anyone who reaches the port, so neither carries free text: error texts of the
/// storage and the monitors (which may name files, hosts, execIds) are in `/healthz` only for an
/// admin (`detailed`); everyone else sees states.
enum Endpoints {
    static func health(_ context: ServerContext, detailed: Bool) -> HTTPResponse {
        let monitors = context.statusBoard.all
        let storage = context.pipeline.statistics.storage.withLock { $0 }
        let degraded = storage != .ok || monitors.contains { $0.state == .degraded || $0.state == .stopped }
            || context.streamPublication?.isDegraded == true
        var out = JSONBytes(reservingCapacity: 1024)
        out.openObject()
        out.key("status"); out.string(static: degraded ? "degraded" : "ok")
        out.key("storage"); out.openObject()
        switch storage {
        case .ok: out.key("state"); out.string(static: "ok"); out.key("error"); out.null()
        case .failing(let error):
            out.key("state"); out.string(static: "failing"); out.key("error")
            if detailed { out.string(error) } else { out.null() }
        case .stopped(let reason):
            out.key("state"); out.string(static: "stopped"); out.key("error")
            if detailed { out.string(reason) } else { out.null() }
        }
        out.closeObject()
        out.key("version"); out.string(context.version)
        out.key("environment"); out.string(context.config.environment.rawValue)
        out.key("uptime"); out.int(Int64(context.uptimeSeconds))
        out.key("connections"); out.int(Int64(context.loop.connectionCount))
        out.key("subscribers"); out.int(Int64(context.hub.subscribers.count))
        out.key("seq"); out.int(context.pipeline.statistics.lastSeq.load(ordering: .relaxed))
        out.key("epoch"); out.string(context.pipeline.epoch)
        out.key("monitors"); out.openArray()
        for var status in monitors {
            if !detailed { status.lastError = nil }
            context.pipeline.encoder.writeMonitor(status, to: &out)
        }
        out.closeArray()
        out.key("detailed"); out.bool(detailed)
        context.streamPublication?.writeHealth(to: &out)
        out.closeObject()
        var response = HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: out.bytes)
        response.headers.add("Cache-Control", "no-store")
        return response
    }

    static func metrics(_ context: ServerContext) -> HTTPResponse {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        let stats = context.pipeline.statistics
        let loop = context.loop
        let m = context.metrics
        metric("ladderwire_connections", "gauge", "Open TCP connections.", [("", "\(loop.connectionCount)")])
        metric("ladderwire_subscribers", "gauge", "Subscribers on /ws.", [("", "\(context.hub.subscribers.count)")])
        metric("ladderwire_connections_accepted_total", "counter", "Accepted TCP connections.", [("", "\(loop.acceptedTotal)")])
        metric("ladderwire_connections_rejected_total", "counter", "Connections refused at the connection limit (503).", [("", "\(loop.rejectedOverLimit)")])
        metric("ladderwire_slow_consumer_disconnects_total", "counter", "Connections closed with 4008 for passing the outbound cap.", [("", "\(m.slowConsumerCloses)")])
        metric("ladderwire_messages_out_total", "counter", "Subscriber messages queued.", [("", "\(context.hub.messagesOut)")])
        metric("ladderwire_sent_bytes_total", "counter", "Bytes written to sockets.", [("", "\(loop.bytesOut)")])
        metric("ladderwire_received_bytes_total", "counter", "Bytes read from sockets.", [("", "\(loop.bytesIn)")])
        let deflater = context.hub.deflater
        metric("ladderwire_deflate_bytes_total", "counter",
               "Payload bytes of messages sent compressed (permessage-deflate), before and after compression.", [
                   ("{stage=\"before\"}", "\(deflater?.bytesIn ?? 0)"),
                   ("{stage=\"after\"}", "\(deflater?.bytesOut ?? 0)"),
               ])
        var queued = 0
        for connection in loop.allConnections { queued += connection.outbound.byteCount }
        metric("ladderwire_outbound_queue_bytes", "gauge", "Bytes queued and not yet written, all connections.", [("", "\(queued)")])
        metric("ladderwire_tls_handshake_failures_total", "counter", "TLS handshakes that failed.", [("", "\(loop.tlsHandshakeFailures)")])
        metric("ladderwire_tls_handshake_timeouts_total", "counter", "TLS handshakes cut by the handshake timeout.", [("", "\(loop.tlsHandshakeTimeouts)")])
        metric("ladderwire_http_requests_total", "counter", "HTTP requests parsed.", [("", "\(m.httpRequests)")])
        metric("ladderwire_http_errors_total", "counter", "Requests refused by the HTTP parser.", [("", "\(m.httpErrors)")])
        metric("ladderwire_websocket_protocol_errors_total", "counter", "WebSocket connections failed for protocol violations.", [("", "\(m.protocolErrors)")])
        metric("ladderwire_auth_failures_total", "counter", "Requests refused for a missing, wrong or expired token.", [("", "\(m.authFailures)")])
        metric("ladderwire_refused_total", "counter", "Connections and requests refused by the hardening limits (docs/operations.md, Security).",
               ["host", "header_timeout", "handshakes", "body_budget", "subscription_rate"].map { ("{reason=\"\($0)\"}", "\(m.refused[$0, default: 0])") }
                   + [("{reason=\"per_address\"}", "\(loop.rejectedPerAddress)")])
        metric("ladderwire_ingest_total", "counter", "Producer messages by result.", [
            ("{result=\"ack\"}", "\(stats.acked.load(ordering: .relaxed))"),
            ("{result=\"duplicate\"}", "\(stats.duplicates.load(ordering: .relaxed))"),
            ("{result=\"rejected\"}", "\(stats.rejected.load(ordering: .relaxed))"),
        ])
        metric("ladderwire_ingest_queue_depth", "gauge", "Work items waiting for the ingest thread.", [("", "\(stats.inboxDepth.load(ordering: .relaxed))")])
        metric("ladderwire_reads_refused_total", "counter", "Viewer reads refused as busy because the ingest queue was full.", [("", "\(stats.readsRefused.load(ordering: .relaxed))")])
        let storageState: String
        switch stats.storage.withLock({ $0 }) {
        case .ok: storageState = "ok"
        case .failing: storageState = "failing"
        case .stopped: storageState = "stopped"
        }
        metric("ladderwire_storage_state", "gauge", "Journal state: ok, failing (last commit failed, ledger rebuilt) or stopped (writes refused).",
               ["ok", "failing", "stopped"].map { ("{state=\"\($0)\"}", $0 == storageState ? "1" : "0") })
        metric("ladderwire_storage_errors_total", "counter", "Journal commits that failed.", [("", "\(stats.storageErrors.load(ordering: .relaxed))")])
        metric("ladderwire_commits_total", "counter", "Journal commits (group commits).", [("", "\(stats.commits.load(ordering: .relaxed))")])
        metric("ladderwire_committed_events_total", "counter", "Events committed to the journal.", [("", "\(stats.committedEvents.load(ordering: .relaxed))")])
        metric("ladderwire_recovered_events", "gauge", "Events replayed by start-up recovery.", [("", "\(stats.recoveredEvents.load(ordering: .relaxed))")])
        metric("ladderwire_last_seq", "gauge", "Highest committed seq.", [("", "\(stats.lastSeq.load(ordering: .relaxed))")])
        let buckets = stats.commitBuckets.withLock { $0 }
        out += histogram("ladderwire_commit_seconds", "Journal commit latency (one group commit).",
                         bounds: PipelineStatistics.commitBucketsMicros, counts: buckets,
                         sumMicros: stats.commitMicrosTotal.load(ordering: .relaxed))
        out += histogram("ladderwire_event_to_push_seconds", "Commit done to frames queued on subscriber sockets.",
                         bounds: LatencyHistogram.boundsMicros, counts: m.push.buckets, sumMicros: m.push.sumMicros)
        out += histogram("ladderwire_fanout_seconds", "Fan-out of one committed batch to every subscriber's queue (Hub.publish).",
                         bounds: LatencyHistogram.boundsMicros, counts: m.fanOut.buckets, sumMicros: m.fanOut.sumMicros)
        out += histogram("ladderwire_ack_latency_seconds", "Producer message handed to the pipeline to its reply queued (per message, /feed and POST /api/fills).",
                         bounds: LatencyHistogram.boundsMicros, counts: m.ack.buckets, sumMicros: m.ack.sumMicros)
        var monitorLines: [(String, String)] = []
        for status in context.statusBoard.all {
            for state in ["starting", "running", "degraded", "stopped"] {
                monitorLines.append(("{monitor=\"\(status.name)\",state=\"\(state)\"}", status.state.rawValue == state ? "1" : "0"))
            }
        }
        metric("ladderwire_monitor_state", "gauge", "Monitor state (1 = current).", monitorLines)
        var reconLines: [(String, String)] = []
        for status in context.statusBoard.all {
            guard let lines = status.recon else { continue }
            for state in ["match", "break", "stale"] {
                reconLines.append(("{monitor=\"\(status.name)\",state=\"\(state)\"}", "\(lines.filter { $0.state.rawValue == state }.count)"))
            }
        }
        if !reconLines.isEmpty {
            metric("ladderwire_recon_lines", "gauge", "Reconciled account x instrument lines by state.", reconLines)
        }
        out += context.streamPublication?.metrics() ?? ""
        metric("ladderwire_uptime_seconds", "gauge", "Seconds since start.", [("", "\(Int(context.uptimeSeconds))")])
        var response = HTTPResponse(status: 200, body: Array(out.utf8))
        response.headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        return response
    }

    static func histogram(_ name: String, _ help: String, bounds: [Int], counts: [Int], sumMicros: Int) -> String {
        var out = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative = 0
        for (index, bound) in bounds.enumerated() {
            cumulative += counts[index]
            out += "\(name)_bucket{le=\"\(Double(bound) / 1e6)\"} \(cumulative)\n"
        }
        cumulative += counts[bounds.count]
        out += "\(name)_bucket{le=\"+Inf\"} \(cumulative)\n"
        out += "\(name)_sum \(Double(sumMicros) / 1e6)\n\(name)_count \(cumulative)\n"
        return out
    }
}
