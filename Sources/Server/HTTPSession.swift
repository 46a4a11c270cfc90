import Bytes
import HTTPCore
import Reactor
import WebSocketCore

/// A plain HTTP/1.1 connection until (maybe) it upgrades to a WebSocket.
///
/// Requests are answered strictly in order: while one waits for an answer from the ingest
/// thread (`/api/*`), later pipelined bytes stay in the parser.
final class HTTPSession: ConnectionHandler {
    private var parser: HTTPRequestParser
    private unowned let context: ServerContext
    private var awaitingReply = false
    private var upgraded = false

    init(context: ServerContext) {
        self.context = context
        self.parser = HTTPRequestParser(limits: context.httpLimits)
    }

    func received(_ bytes: ArraySlice<UInt8>, on connection: Connection) {
        parser.feed(bytes)
        processRequests(on: connection)
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
                // A client waiting on `Expect: 100-continue` gets the go-ahead for its body.
                if parser.takeContinueRequest() { connection.send(HTTPResponse.continueHead) }
                return
            }
            context.metrics.httpRequests += 1
            handle(request, on: connection)
        }
    }

    private func handle(_ request: HTTPRequest, on connection: Connection) {
        switch context.router.route(request, connection: connection) {
        case .response(let response):
            write(response, for: request, on: connection)
        case .deferred(let start):
            awaitingReply = true
            start { [weak self, weak connection] response in
                guard let self, let connection, !connection.isClosed else { return }
                self.awaitingReply = false
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
        let keepAlive = request.keepAlive && response.status < 500 && !context.shuttingDown
        connection.send(response.encode(includeBody: request.method != "HEAD", keepAlive: keepAlive))
        if !keepAlive { connection.closeAfterFlush() }
    }

    func tick(_ connection: Connection, now: Monotonic) {
        // Idle keep-alive connections (and half-sent requests) do not hold a slot forever.
        if !awaitingReply && now.seconds(since: connection.lastActivity) > context.httpIdleTimeout {
            connection.close()
        }
    }

    func closed(_ connection: Connection) {}
}
