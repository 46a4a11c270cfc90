import Bytes
import Ingest
import JSON
import Reactor
import WebSocketCore
import Wire

/// `/feed`: one producer message per text frame, one reply per message, after the commit.
///
/// Messages that arrive in one read are submitted to the pipeline as one batch (one queue
/// hand-off, one commit, one reply hand-off back to the loop) — replies stay one per message,
/// in order.
final class ProducerEndpoint: WebSocketEndpoint {
    private unowned let context: ServerContext
    let principal: Principal
    private var pendingItems: [IngestPipeline.Item] = []
    private var pendingRefs: [String?] = []
    /// Messages submitted and not yet answered. Above `maxUnanswered` the socket is not read
    /// (TCP pushes back on the producer) until the answers catch up: a producer faster than the
    /// journal cannot grow the server's memory without bound.
    private var unanswered = 0
    static let maxUnanswered = 4096

    init(context: ServerContext, principal: Principal) {
        self.context = context
        self.principal = principal
    }

    func received(_ event: WebSocketEvent, on session: WebSocketSession) {
        context.metrics.producerMessages += 1
        let item: IngestPipeline.Item
        let ref: String?
        switch event {
        case .text(let text):
            (item, ref) = ProducerItems.item(fromJSON: text, principal: principal)
        default:
            (item, ref) = (.refused(code: "malformed_json", message: "send producer messages as JSON text frames", ref: nil), nil)
        }
        pendingItems.append(item)
        pendingRefs.append(ref)
    }

    func receivedBurstEnded(_ session: WebSocketSession) {
        guard !pendingItems.isEmpty else { return }
        let items = pendingItems, refs = pendingRefs
        pendingItems.removeAll(keepingCapacity: true)
        pendingRefs.removeAll(keepingCapacity: true)
        let target = LoopBound((endpoint: self, session: session), on: context.loop)
        let submitted = Monotonic.now()
        unanswered += items.count
        if unanswered > Self.maxUnanswered { session.connection.pauseReading() }
        context.pipeline.submit(items: items, source: principal.name, atomic: false) { results in
            let frames = zip(results, refs).map { result, ref in
                FrameEncoder.frame(.text, payload: ProducerItems.replyBytes(result, ref: ref))
            }
            target.post { $0.endpoint.answered(frames, on: $0.session, submitted: submitted) }
        }
    }

    private func answered(_ frames: [[UInt8]], on session: WebSocketSession, submitted: Monotonic) {
        session.sendFrames(frames)
        context.metrics.ack.record(micros: Int((Monotonic.now().nanoseconds - submitted.nanoseconds) / 1000), count: frames.count)
        unanswered -= frames.count
        if unanswered <= Self.maxUnanswered / 2 { session.connection.resumeReading() }
    }

    /// A producer whose token expires mid-connection is closed with 4001, like a subscriber.
    func tick(_ session: WebSocketSession, now: Monotonic) {
        if !context.authenticator.tokens.admits(principal, now: wallClockNanos()) {
            session.close(.tokenExpired, reason: "token expired or revoked")
        }
    }

    func closed(_ session: WebSocketSession) {}
}
