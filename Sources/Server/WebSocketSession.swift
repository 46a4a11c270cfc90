import Bytes
import HTTPCore
import Hub
import Reactor
import WebSocketCore
import Wire

/// What a WebSocket endpoint does with messages (echo, subscriber, producer).
protocol WebSocketEndpoint: AnyObject {
    func opened(_ session: WebSocketSession)
    func received(_ event: WebSocketEvent, on session: WebSocketSession)
    /// Every message of one read has been delivered (lets a producer submit them as one batch).
    func receivedBurstEnded(_ session: WebSocketSession)
    func tick(_ session: WebSocketSession, now: Monotonic)
    func closed(_ session: WebSocketSession)
    /// The connection fell behind (see `Reactor.OutboundBacklog`). Default: the slow-consumer close.
    func overflowed(_ session: WebSocketSession)
    /// Message limits for this endpoint. Default: the configured `limits`.
    func limits(in context: ServerContext) -> WebSocketLimits
    /// A flush brought the outbound queue back under the cap.
    func drained(_ session: WebSocketSession)
    /// Whether the session stops reading the peer while more than the cap waits for it (its
    /// echoes and pongs then cannot pile up; TCP pushes back). Default: false.
    var pausesReadingWhenBacklogged: Bool { get }
}

extension WebSocketEndpoint {
    func opened(_ session: WebSocketSession) {}
    func receivedBurstEnded(_ session: WebSocketSession) {}
    func tick(_ session: WebSocketSession, now: Monotonic) {}
    func overflowed(_ session: WebSocketSession) { session.slowConsumerClose() }
    func limits(in context: ServerContext) -> WebSocketLimits { context.webSocketLimits }
    func drained(_ session: WebSocketSession) {}
    var pausesReadingWhenBacklogged: Bool { false }
}

/// One upgraded connection: feeds bytes to the sans-I/O `WebSocketConnection`, answers pings and
/// closes, runs keepalives and the close handshake's deadline, and hands data to the endpoint.
/// The hub writes a subscriber's frames through its session (`FrameSink`), never to the socket.
final class WebSocketSession: ConnectionHandler, FrameSink {
    let connection: Connection
    let endpoint: WebSocketEndpoint
    let subprotocol: String?
    /// permessage-deflate for what this session sends (nil: not negotiated or `off`).
    let deflate: FrameDeflate?
    private var protocolState: WebSocketConnection
    private let keepalive: Keepalive
    private var lastPingSent: Monotonic?
    private var closeDeadline: Monotonic?
    private unowned let context: ServerContext

    struct Keepalive {
        var pingInterval: Double
        var pongTimeout: Double
        var idleTimeout: Double
    }

    init(connection: Connection, endpoint: WebSocketEndpoint, subprotocol: String?,
         negotiated: DeflateParameters? = nil, deflate: FrameDeflate? = nil, limits: WebSocketLimits,
         keepalive: Keepalive, context: ServerContext) {
        self.connection = connection
        self.endpoint = endpoint
        self.subprotocol = subprotocol
        self.deflate = negotiated == nil ? nil : deflate
        self.protocolState = WebSocketConnection(limits: limits, deflate: negotiated)
        self.keepalive = keepalive
        self.context = context
    }

    var isOpen: Bool { protocolState.state == .open && !connection.isClosed }
    var limits: WebSocketLimits { protocolState.limits }

    func start(leftover: [UInt8]) {
        endpoint.opened(self)
        if !leftover.isEmpty { received(leftover[...], on: connection) }
    }

    func received(_ bytes: ArraySlice<UInt8>, on connection: Connection) {
        protocolState.receive(bytes)
        defer { if !connection.isClosed { endpoint.receivedBurstEnded(self) } }
        while !connection.isClosed {
            let event: WebSocketEvent?
            do {
                event = try protocolState.nextEvent()
            } catch {
                context.metrics.protocolErrors += 1
                fail(error.closeCode, reason: error.reason)
                return
            }
            guard let event else { return }
            if let reply = protocolState.reply(to: event) {
                connection.send(reply)
                pauseIfBacklogged()
            }
            switch event {
            case .close:
                // Our echo (or, after our own close, nothing) is queued: the server closes TCP.
                endpoint.closed(self)
                connection.closeAfterFlush()
                return
            case .pong:
                lastPingSent = nil
            case .ping:
                break
            case .text, .binary:
                if protocolState.state == .open { endpoint.received(event, on: self) }
            }
        }
    }

    /// For endpoints that ask for it: stop reading while more than the cap waits.
    func pauseIfBacklogged() {
        if endpoint.pausesReadingWhenBacklogged && connection.outbound.byteCount > connection.outboundCap {
            connection.pauseReading()
        }
    }

    /// Sends complete frames ready for the wire (the hub's shared buffers, already compressed
    /// for this subscriber when it negotiated permessage-deflate). Nothing follows a close.
    func send(_ frame: SharedBuffer) {
        guard isOpen else { return }
        connection.send(frame)
    }

    func sendText(_ text: String) {
        sendMessage(.text, Array(text.utf8))
    }

    /// A text message whose UTF-8 bytes are already encoded (JSON from the writer).
    func sendText(bytes: [UInt8]) {
        sendMessage(.text, bytes)
    }

    func sendBinary(_ bytes: [UInt8]) {
        sendMessage(.binary, bytes)
    }

    /// Several pre-encoded frames in one buffer (a producer's batch of replies), each data
    /// frame compressed if this session negotiated permessage-deflate.
    func sendFrames(_ frames: [[UInt8]]) {
        guard isOpen, !frames.isEmpty else { return }
        let joined = SharedBuffer(concatenating: frames)
        if let deflate, let deflater = context.hub.deflater {
            connection.send(deflate.apply(to: joined, using: deflater))
        } else {
            connection.send(joined)
        }
    }

    private func sendMessage(_ opcode: Opcode, _ payload: [UInt8]) {
        guard isOpen else { return }
        if let deflate, let deflater = context.hub.deflater,
           let compressed = deflater.compress(payload, windowBits: deflate.windowBits, minimumBytes: deflate.minimumBytes) {
            connection.send(SharedBuffer(concatenating: [FrameEncoder.header(opcode, payloadLength: compressed.count, compressed: true), compressed]))
            return
        }
        connection.send(SharedBuffer(concatenating: [FrameEncoder.header(opcode, payloadLength: payload.count), payload]))
    }

    /// Server-initiated close: send our close frame, then wait (bounded) for the peer's.
    func close(_ code: CloseCode, reason: String = "") {
        guard protocolState.state == .open else { return }
        endpoint.closed(self)
        connection.send(protocolState.close(code, reason: reason))
        closeDeadline = Monotonic.now().adding(seconds: 3)
    }

    /// A protocol violation: close with its code and drop the connection without waiting.
    private func fail(_ code: CloseCode, reason: String) {
        if protocolState.state == .open || protocolState.state == .closeReceived {
            connection.send(protocolState.close(code, reason: reason))
        }
        endpoint.closed(self)
        connection.closeAfterFlush()
    }

    /// Outbound cap passed: queued deltas that have not started are dropped (the client resumes
    /// from its last seq), a best-effort 4008 close goes out, and the socket closes shortly after.
    func slowConsumerClose() {
        context.metrics.slowConsumerCloses += 1
        connection.dropUnsentOutput()
        if protocolState.state == .open {
            connection.send(protocolState.close(.slowConsumer, reason: "slow consumer"))
        }
        endpoint.closed(self)
        connection.closeAfterFlush(within: 1)
    }

    func outboundOverflowed(_ connection: Connection) {
        endpoint.overflowed(self)
    }

    func outboundDrained(_ connection: Connection) {
        endpoint.drained(self)
    }

    func tick(_ connection: Connection, now: Monotonic) {
        if let deadline = closeDeadline {
            if deadline < now { connection.close() }
            return
        }
        guard protocolState.state == .open else { return }
        let idle = now.seconds(since: connection.lastActivity)
        if let sent = lastPingSent, now.seconds(since: sent) > keepalive.pongTimeout {
            // No pong in time: the peer is gone or wedged.
            close(.goingAway, reason: "keepalive timeout")
            return
        }
        if idle > keepalive.idleTimeout {
            close(.goingAway, reason: "idle timeout")
            return
        }
        if idle >= keepalive.pingInterval && lastPingSent == nil {
            connection.send(FrameEncoder.frame(.ping, payload: Array("lw".utf8)))
            lastPingSent = now
        }
        endpoint.tick(self, now: now)
    }

    func closed(_ connection: Connection) {
        endpoint.closed(self)
    }
}

/// `/echo`: every text and binary message back, for conformance suites. Its limits are its own
/// (`ServerContext.echoLimits`): messages up to 16 MiB in any number of fragments. A peer that
/// sends faster than it reads its echoes is not read while more than the outbound cap waits
/// (TCP pushes back), so what the server holds for it stays under the cap plus one echo.
final class EchoEndpoint: WebSocketEndpoint {
    func opened(_ session: WebSocketSession) {
        // One echo of the largest message must fit beside the cap without being "too much".
        let connection = session.connection
        let echo = session.limits.maxMessageBytes + 14
        connection.backlog.hardCap = max(connection.backlog.hardCap, connection.outboundCap + 2 * echo)
    }

    func received(_ event: WebSocketEvent, on session: WebSocketSession) {
        switch event {
        case .text(let text): session.sendText(text)
        case .binary(let bytes): session.sendBinary(bytes)
        default: return
        }
        session.pauseIfBacklogged()
    }

    /// Echoes and pongs both: a peer that floods and never reads is not read either.
    var pausesReadingWhenBacklogged: Bool { true }

    func drained(_ session: WebSocketSession) { session.connection.resumeReading() }

    func limits(in context: ServerContext) -> WebSocketLimits { context.echoLimits }

    func closed(_ session: WebSocketSession) {}
}
