import Bytes
import CSystem
import Glibc

/// What the protocol layer above a socket implements. Every call happens on the loop thread.
public protocol ConnectionHandler: AnyObject {
    /// New bytes from the peer.
    func received(_ bytes: ArraySlice<UInt8>, on connection: Connection)
    /// The outbound queue passed the connection's cap: the handler decides how to close.
    func outboundOverflowed(_ connection: Connection)
    /// A flush brought the outbound queue back to the cap or under it while reading was paused.
    func outboundDrained(_ connection: Connection)
    /// The housekeeping tick (about once a second): keepalives, idle and close deadlines.
    func tick(_ connection: Connection, now: Monotonic)
    /// The socket is gone (peer closed, error, or we closed it). Called exactly once.
    func closed(_ connection: Connection)
}

extension ConnectionHandler {
    public func outboundOverflowed(_ connection: Connection) { connection.close() }
    public func outboundDrained(_ connection: Connection) {}
    public func tick(_ connection: Connection, now: Monotonic) {}
}

/// One accepted TCP socket, owned by the loop. Identity matters (the hub holds references), so
/// it is a class; it is only ever touched on the loop thread.
public final class Connection {
    public let id: UInt64
    public let fd: Int32
    public let peer: String
    public let isLoopbackPeer: Bool
    public var handler: ConnectionHandler?
    /// How the outbound queue is judged (cap, hard cap, drain window): a connection that falls
    /// behind gets `outboundOverflowed` once. Endpoints may widen it (the echo of a 16 MiB message).
    public var backlog: OutboundBacklog
    public var outboundCap: Int {
        get { backlog.cap }
        set { backlog.cap = newValue; backlog.hardCap = max(backlog.hardCap, newValue) }
    }
    public internal(set) var outbound = OutboundQueue()
    public private(set) var isClosed = false
    /// Set by `closeAfterFlush`: no more input is read, the socket closes once the queue drains
    /// or the deadline passes.
    public private(set) var closingDeadline: Monotonic?
    public internal(set) var bytesIn = 0
    public internal(set) var bytesOut = 0
    public var lastActivity: Monotonic
    /// The epoll events currently registered for the socket.
    var interest = EventLoop.readInterest
    var pendingWrite = false
    var pendingRead = false
    var overflowReported = false
    public private(set) var readingPaused = false
    /// The TLS layer when the connection came in on a TLS listener; nil for plain TCP (and after
    /// a plain HTTP request on the TLS port is answered in clear text).
    var tls: TLSSession?
    unowned let loop: EventLoop

    init(id: UInt64, fd: Int32, peer: String, isLoopbackPeer: Bool, backlog: OutboundBacklog, tls: TLSSession?, loop: EventLoop) {
        self.id = id; self.fd = fd; self.peer = peer; self.isLoopbackPeer = isLoopbackPeer
        self.backlog = backlog; self.tls = tls; self.loop = loop; self.lastActivity = .now()
    }

    /// True when the bytes travel inside TLS (wss://, https://).
    public var isSecure: Bool { tls != nil }
    /// The negotiated TLS version ("TLSv1.3"), or nil for plain TCP or before the handshake ends.
    public var tlsProtocolVersion: String? {
        guard let tls, !tls.isHandshaking else { return nil }
        return tls.protocolVersion
    }
    /// The negotiated ALPN protocol ("http/1.1"), if any.
    public var alpnProtocol: String? { tls?.alpnProtocol }

    /// Bytes still to be written: the queue plus, with TLS, a record OpenSSL is holding for retry.
    public var hasUnsentOutput: Bool { !outbound.isEmpty || !(tls?.stalledRecord.isEmpty ?? true) }

    /// Queues bytes; they go out in the loop's before-sleep flush (one `writev` per turn).
    public func send(_ bytes: [UInt8]) {
        send(SharedBuffer(bytes))
    }

    /// Queues a shared buffer (the hub's encode-once path).
    public func send(_ buffer: SharedBuffer) {
        guard !isClosed, closingDeadline == nil, buffer.count > 0 else { return }
        // The backlog is judged after the turn's flush and on the housekeeping tick
        // (EventLoop.judgeBacklog): queueing a large batch or echo is fine for a client that
        // reads it; only a client that does not drain what waits is falling behind.
        outbound.append(buffer)
        loop.markPendingWrite(self)
    }

    /// Stops reading this socket (its EPOLLIN interest) so TCP pushes back on the peer, e.g. a
    /// producer far ahead of its acknowledgements; `resumeReading` undoes it.
    public func pauseReading() {
        guard !readingPaused, !isClosed else { return }
        readingPaused = true
        loop.updateInterest(self)
    }

    public func resumeReading() {
        guard readingPaused, !isClosed else { return }
        readingPaused = false
        loop.updateInterest(self)
    }

    /// Drops queued bytes that have not started going out (see `OutboundQueue.dropUnstarted`).
    public func dropUnsentOutput() { outbound.dropUnstarted() }

    /// Stops reading and closes once everything queued has been written, or at the deadline.
    public func closeAfterFlush(within seconds: Double = 2) {
        guard !isClosed else { return }
        if closingDeadline == nil { closingDeadline = Monotonic.now().adding(seconds: seconds) }
        loop.markPendingWrite(self)   // the flush half-closes once the queue is empty
    }

    /// Closes the socket now; queued bytes are discarded.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.connectionDidClose(self)
    }

    /// Writes as much of the queue as the socket takes; returns false on a fatal error.
    func flush() -> Bool {
        if let tls { return flushTLS(tls) }
        return flushPlain()
    }

    /// One `writev` per batch of queued chunks, straight from the shared buffers.
    private func flushPlain() -> Bool {
        var budget = 64   // writev calls per flush; a socket that keeps taking data is served fairly
        while !outbound.isEmpty && budget > 0 {
            budget -= 1
            let written = loop.withIOVecScratch { iov in
                let count = outbound.fill(iov)
                return Glibc.writev(fd, iov.baseAddress, Int32(count))
            }
            if written < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return true }
                if errno == EINTR { continue }
                return false
            }
            outbound.consume(written)
            bytesOut += written
            loop.bytesOut += written
        }
        return true
    }
}

