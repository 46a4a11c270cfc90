import Ingest
import JSON
import Reactor
import StreamEngine
import Wire

/// The core's side of `serve --stream`: hands each committed batch to the stream publisher, and
/// gives the publisher its way into the journal (reads of committed events on the pipeline
/// thread, and the outbox cursor `stream:<key>` stored like a source cursor).
///
/// Loop-confined (it travels in a `LoopBound`).
final class StreamPublication {
    static func cursorName(_ endpoint: RedisEndpoint) -> String { "stream:\(endpoint.key)" }

    let epoch: String
    private(set) var publisher: (any StreamPublisher)?

    init(epoch: String) { self.epoch = epoch }

    /// On the loop, in commit order.
    func committed(_ events: [CommittedEvent]) {
        guard let publisher else { return }
        publisher.committed(events.map { event in
            StreamEntry(seq: event.seq, epoch: epoch, messages: StreamEntry.messagesArray(event.messages.map(\.jsonBytes)))
        })
    }

    /// Creates and starts the Redis publisher (loop thread, after the pipeline started).
    func start(endpoint: RedisEndpoint, pipeline: IngestPipeline, loop: EventLoop, lastSeq: Int64,
               log: @escaping @Sendable (String) -> Void) {
        let cursor = Self.cursorName(endpoint)
        let recorded = pipeline.cursor(named: cursor).flatMap { Int64($0) } ?? 0
        let epoch = self.epoch
        let tap = JournalTap(
            read: { after, limit, done in
                let reply = LoopBound(done, on: loop)
                pipeline.read { context in
                    // Messages this server cannot read count as a failed read, like an I/O error.
                    var entries: [StreamEntry]?
                    if let records = try? context.journal.events(after: after, limit: limit) {
                        entries = []
                        for record in records {
                            guard let messages = context.messagesJSON(of: record) else {
                                entries = nil
                                break
                            }
                            entries?.append(StreamEntry(seq: record.seq, epoch: epoch, messages: messages))
                        }
                    }
                    let page = entries
                    reply.post { done in done(page) }
                }
            },
            record: { published, done in
                let reply = LoopBound(done, on: loop)
                pipeline.submit([], source: "stream", cursor: (cursor, String(published))) { _ in
                    reply.post { done in done() }
                }
            },
            lastSeq: lastSeq, recordedPublished: recorded, epoch: epoch)
        let publisher = RedisStreamPublisher(endpoint: endpoint, loop: loop, journal: tap, log: log)
        self.publisher = publisher
        log("publishing committed events to \(endpoint) (window \(endpoint.window) entries; acknowledged up to seq \(recorded))")
        publisher.start()
    }

    // MARK: /healthz and /metrics

    /// `"stream": {…}` for /healthz.
    func writeHealth(to out: inout JSONBytes) {
        guard let status = publisher?.status else { return }
        out.key("stream"); out.openObject()
        out.key("role"); out.string(static: "core")
        out.key("engine"); out.string(status.engine)
        out.key("state"); out.string(status.state.rawValue)
        out.key("error"); if let reason = status.reason { out.string(reason) } else { out.null() }
        out.key("publishedSeq"); out.int(status.publishedSeq)
        out.key("committedSeq"); out.int(status.committedSeq)
        out.key("lag"); out.int(max(0, status.committedSeq - status.publishedSeq))
        out.closeObject()
    }

    var isDegraded: Bool { publisher.map { $0.status.state == .down } ?? false }

    func metrics() -> String {
        guard let status = publisher?.status else { return "" }
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        metric("ladderwire_stream_publish_state", "gauge", "Stream publisher state (1 = current).",
               ["connecting", "publishing", "catching_up", "down"].map { ("{state=\"\($0)\"}", $0 == status.state.rawValue ? "1" : "0") })
        metric("ladderwire_stream_published_seq", "gauge", "Highest seq the stream engine acknowledged.", [("", "\(status.publishedSeq)")])
        metric("ladderwire_stream_publish_lag", "gauge", "Committed events not yet acknowledged by the stream engine.",
               [("", "\(max(0, status.committedSeq - status.publishedSeq))")])
        metric("ladderwire_stream_entries_sent_total", "counter", "Stream entries added.", [("", "\(status.sent)")])
        metric("ladderwire_stream_republished_total", "counter", "Entries the engine had lost and that were sent again from the journal.", [("", "\(status.republished)")])
        metric("ladderwire_stream_errors_total", "counter", "Refusals by the engine and failed journal reads.", [("", "\(status.errors)")])
        return out
    }
}
