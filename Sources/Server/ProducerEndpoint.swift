import Hub
import Ingest
import Reactor
import WebSocketCore

/// `/feed`: one producer message per text frame, one reply per message, after the commit.
///
/// Messages that arrive in one read are submitted to the pipeline as one batch (one queue
/// hand-off, one commit, one reply hand-off back to the loop) — replies stay one per message,
/// in order.
final class ProducerEndpoint: WebSocketEndpoint {
    private unowned let context: ServerContext
    private let principal: Principal
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
        let loop = context.loop
        let target = UncheckedProducer(endpoint: self, session: session)
        unanswered += items.count
        if unanswered > Self.maxUnanswered { session.connection.pauseReading() }
        context.pipeline.submit(items: items, source: principal.name, atomic: false) { results in
            let frames = zip(results, refs).map { result, ref in
                FrameEncoder.frame(.text, payload: Array(ProducerItems.reply(result, ref: ref).utf8))
            }
            loop.post { target.endpoint.answered(frames, on: target.session) }
        }
    }

    private func answered(_ frames: [[UInt8]], on session: WebSocketSession) {
        session.sendFrames(frames)
        unanswered -= frames.count
        if unanswered <= Self.maxUnanswered / 2 { session.connection.resumeReading() }
    }

    /// A producer whose token expires mid-connection is closed with 4001, like a subscriber.
    func tick(_ session: WebSocketSession, now: Monotonic) {
        if let expires = principal.expires, expires <= wallClockNanos() {
            session.close(.tokenExpired, reason: "token expired")
        }
    }

    func closed(_ session: WebSocketSession) {}
}

struct UncheckedProducer: @unchecked Sendable {
    let endpoint: ProducerEndpoint
    let session: WebSocketSession
}

/// Shared by `/feed` and `POST /api/fills`: parsing, account scope, replies.
enum ProducerItems {
    static func item(fromJSON text: String, principal: Principal) -> (IngestPipeline.Item, String?) {
        do {
            let message = try ProducerMessage.parse(json: text)
            return (check(message, principal: principal), message.ref)
        } catch {
            return (.refused(code: error.code, message: error.message, ref: error.ref), error.ref)
        }
    }

    static func item(from value: JSONValue, principal: Principal) -> (IngestPipeline.Item, String?) {
        do {
            let message = try ProducerMessage.parse(value)
            return (check(message, principal: principal), message.ref)
        } catch {
            return (.refused(code: error.code, message: error.message, ref: error.ref), error.ref)
        }
    }

    /// A producer scoped to some accounts may only write those accounts.
    static func check(_ message: ProducerMessage, principal: Principal) -> IngestPipeline.Item {
        switch message {
        case .fill(_, let account, _, _, _, _, _), .sod(let account, _, _, _):
            if !principal.allows(account: account) {
                return .refused(code: "unauthorized_account", message: "token '\(principal.name)' may not write account '\(account)'", ref: message.ref)
            }
        default:
            break
        }
        return .message(message)
    }

    static func replyValue(_ result: SubmitResult, ref: String?) -> JSONValue {
        let refValue: JSONValue = ref.map { .string($0) } ?? .null
        switch result {
        case .ack(let seq):
            return .object([("type", .string("ack")), ("ref", refValue), ("seq", .int(seq))])
        case .duplicate(let seq):
            return .object([("type", .string("duplicate")), ("ref", refValue), ("seq", .int(seq))])
        case .rejected(let code, let message):
            return .object([("type", .string("error")), ("ref", refValue), ("code", .string(code)), ("message", .string(message))])
        }
    }

    static func reply(_ result: SubmitResult, ref: String?) -> String { replyValue(result, ref: ref).serialized }
}
