import Bytes
import HTTPCore
import Reactor
import WebSocketCore

/// A plain HTTP/1.1 connection until (maybe) it upgrades to a WebSocket.
///
/// Requests are answered strictly in order: while one waits for an answer from the ingest
/// thread (`/api/*`), the socket is not read (TCP pushes back), so input cannot pile up.
///
/// Limits against clients that hold the server (docs/operations.md, "Security"):
/// - the first request head counts as a handshake in flight (per address and in all) until it
///   is complete; beyond the caps a new connection is refused with 503;
/// - every request head must be complete within `headerTimeoutSeconds` of its first byte (the
///   first one within that time of the accept), else 408 and close;
/// - a request with a body is checked (Host, Origin, token) on its head, before the body is read,
///   and its Content-Length is reserved from the server-wide body budget (503 when spent);
/// - after `ServerContext.refusalsBeforeClose` refused requests (401, 403, 421) the connection closes.
final class HTTPSession: ConnectionHandler {
    private var parser: HTTPRequestParser
    private unowned let context: ServerContext
    private var awaitingReply = false
    private var upgraded = false
    private let address: String
    /// Still a handshake in flight (no whole request head yet), counted in the context.
    private var inFlight = false
    /// When the head being received began (the accept for the first one); nil between requests.
    private var headStartedAt: Monotonic?
    /// The pending head (with a body to come) passed the checks, and its body is reserved.
    private var headChecked = false
    private var reservedBody = 0
    private var refusals = 0

    init(context: ServerContext, connection: Connection) {
        self.context = context
        self.parser = HTTPRequestParser(limits: context.httpLimits)
        self.address = connection.peerAddress
        self.headStartedAt = .now()
        if context.admitHandshake(from: address) {
            inFlight = true
        } else {
            context.metrics.refused["handshakes", default: 0] += 1
            connection.send(HTTPResponse.text(503, "too many connections in progress from \(address) or in all; try again shortly").encode(keepAlive: false))
            connection.closeAfterFlush()
        }
    }

    func received(_ bytes: ArraySlice<UInt8>, on connection: Connection) {
        if headStartedAt == nil { headStartedAt = .now() }
        parser.feed(bytes)
        processRequests(on: connection)
    }

    private func finishHandshake() {
        guard inFlight else { return }
        inFlight = false
        context.finishHandshake(from: address)
    }

    private func releaseBody() {
        if reservedBody > 0 { context.releaseBody(reservedBody) }
        reservedBody = 0
        headChecked = false
    }

    private func processRequests(on connection: Connection) {
        while !awaitingReply && !upgraded && !connection.isClosed {
            let request: HTTPRequest?
            do {
                request = try parser.nextRequest()
            } catch {
                context.metrics.httpErrors += 1
                connection.send(error.response.encode(keepAlive: false))
                connection.closeAfterFlush()
                return
            }
            guard let request else {
                if let head = parser.headAwaitingBody {
                    headStartedAt = nil   // the head is whole; the body is bounded by the idle timeout
                    finishHandshake()
                    if !headChecked && !checkBeforeBody(head, on: connection) { return }
                    // A client waiting on `Expect: 100-continue` gets the go-ahead for its body.
                    if parser.takeContinueRequest() { connection.send(HTTPResponse.continueHead) }
                }
                return
            }
            finishHandshake()
            releaseBody()
            headStartedAt = parser.bufferedByteCount > 0 ? .now() : nil
            context.metrics.httpRequests += 1
            handle(request, on: connection)
        }
    }

    /// Host, Origin and token on the head alone; then the body's room in the server-wide budget.
    /// A refusal is answered at once and the connection closed (its body is never read).
    private func checkBeforeBody(_ head: HTTPRequest, on connection: Connection) -> Bool {
        if let refusal = context.router.refusal(forHead: head, connection: connection) {
            refuse(refusal, on: connection)
            return false
        }
        let length = parser.awaitedBodyLength
        guard context.reserveBody(length) else {
            context.metrics.refused["body_budget", default: 0] += 1
            var response = HTTPResponse.text(503, "the server is buffering too many request bodies; retry shortly")
            response.headers.add("Retry-After", "1")
            refuse(response, on: connection)
            return false
        }
        reservedBody = length
        headChecked = true
        return true
    }

    private func refuse(_ response: HTTPResponse, on connection: Connection) {
        connection.send(response.encode(keepAlive: false))
        connection.closeAfterFlush()
    }

    private func handle(_ request: HTTPRequest, on connection: Connection) {
        switch context.router.route(request, connection: connection, peerAddress: address) {
        case .response(let response):
            write(response, for: request, on: connection)
        case .deferred(let start):
            awaitingReply = true
            connection.pauseReading()   // nothing more is read until this one is answered
            start { [weak self, weak connection] response in
                guard let self, let connection, !connection.isClosed else { return }
                self.awaitingReply = false
                connection.resumeReading()
                self.write(response, for: request, on: connection)
                self.processRequests(on: connection)
            }
        case .upgrade(let accepted, let endpoint, let deflate):
            upgraded = true
            connection.send(accepted.response.encode(keepAlive: true))
            let session = WebSocketSession(connection: connection, endpoint: endpoint,
                                           subprotocol: accepted.subprotocol,
                                           negotiated: accepted.deflate, deflate: deflate,
                                           limits: endpoint.limits(in: context),
                                           keepalive: context.keepalive, context: context)
            connection.handler = session
            session.start(leftover: parser.takeBufferedBytes())
        }
    }

    private func write(_ response: HTTPResponse, for request: HTTPRequest, on connection: Connection) {
        if [401, 403, 421].contains(response.status) { refusals += 1 }
        let keepAlive = request.keepAlive && response.status < 500 && !context.shuttingDown
            && refusals < ServerContext.refusalsBeforeClose
        connection.send(response.encode(includeBody: request.method != "HEAD", keepAlive: keepAlive))
        if !keepAlive { connection.closeAfterFlush() }
    }

    func tick(_ connection: Connection, now: Monotonic) {
        if awaitingReply || connection.isClosed { return }
        // Slow-loris: the whole head within the deadline, however steadily its bytes trickle in.
        if let started = headStartedAt, parser.headAwaitingBody == nil, now.seconds(since: started) > context.headerTimeout {
            headStartedAt = nil
            context.metrics.refused["header_timeout", default: 0] += 1
            let seconds = context.headerTimeout
            connection.send(HTTPResponse.text(408, "the request head must arrive within \(seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)) s").encode(keepAlive: false))
            connection.closeAfterFlush(within: 1)
            return
        }
        // Idle keep-alive connections (and half-sent bodies) do not hold a slot forever.
        if now.seconds(since: connection.lastActivity) > context.httpIdleTimeout {
            connection.close()
        }
    }

    func closed(_ connection: Connection) {
        finishHandshake()
        releaseBody()
    }
}
