import Bytes
import CSystem
import Glibc

/// One epoll loop that owns every socket, in the shape of Redis's `ae.c`.
///
/// Each turn: wait for events (level-triggered), read what is readable, run mailbox work and due
/// timers, then — the "before sleep" step — flush every connection that queued output with one
/// `writev` each (with TLS: `SSL_write` of coalesced records, see TLSTransport.swift). EPOLLOUT
/// is armed only for sockets that could not take everything.
///
/// Level-triggered because fairness stays simple: a socket with more input than one turn's read
/// budget is just reported again next turn, so a flooding client cannot starve the others, and no
/// "drain until EAGAIN" bookkeeping is needed.
///
/// Thread confinement: everything here runs on the loop thread except `post`, which is the
/// mailbox door. That is why the class may be `@unchecked Sendable`.
public final class EventLoop: @unchecked Sendable {
    public struct Options: Sendable {
        public var maxConnections = 20_000
        /// Outbound backlog a connection may hold indefinitely (see `OutboundBacklog`).
        public var outboundCapBytes = 1 << 20
        /// Over the cap, a connection gets this long to show it drains at a pace that clears it.
        public var outboundDrainSeconds: Double = 5
        /// Never more than this queued for one connection, whatever its pace (nil: 16 × the cap).
        public var outboundHardCapBytes: Int?
        /// Bytes read from one socket per turn before moving on to the others.
        public var readBudgetPerTurn = 256 * 1024
        /// Answer for connections beyond `maxConnections` (written best-effort, then closed).
        public var overloadResponse: [UInt8] = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 29\r\nConnection: close\r\n\r\nserver at connection limit.\n".utf8)
        /// Seconds a TLS client gets to finish its handshake; a stalled or garbage handshake must
        /// not hold a connection slot.
        public var tlsHandshakeTimeout: Double = 10
        /// Open connections one peer address may hold; beyond it new ones get `overloadResponse`
        /// and are closed (one host cannot take every slot).
        public var maxConnectionsPerAddress = Int.max
        public init() {}
    }

    public let options: Options
    let epfd: Int32
    private let mailbox: Mailbox
    private let timerFD: Int32
    private struct Listener {
        var onAccept: (Connection) -> Void
        /// Current TLS configuration for new connections; nil for a plain TCP listener.
        var tls: TLSContext?
    }
    private var listeners: [Int32: Listener] = [:]
    private var listenersPaused = false
    var connections: [UInt64: Connection] = [:]
    /// Open connections per peer address (without the port), for `maxConnectionsPerAddress`.
    private var connectionsPerAddress: [String: Int] = [:]
    private var pendingWrites: [Connection] = []
    /// TLS connections with decrypted input left inside OpenSSL, which epoll cannot report.
    private var pendingReads: [Connection] = []
    var nextID: UInt64 = 16
    private var timers = TimerHeap()
    private var running = false
    private var readScratch = [UInt8](repeating: 0, count: 64 * 1024)
    private let recordScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Connection.tlsRecordSize, alignment: 16)
    private let iovScratch = UnsafeMutableBufferPointer<iovec>.allocate(capacity: 512)

    // Counters for /metrics; read on the loop thread.
    public internal(set) var acceptedTotal = 0
    public internal(set) var rejectedOverLimit = 0
    /// Connections refused because their address already held `maxConnectionsPerAddress`.
    public internal(set) var rejectedPerAddress = 0
    public internal(set) var bytesOut = 0
    public internal(set) var bytesIn = 0
    /// TLS handshakes that failed (bad or garbage ClientHello, plain HTTP, refused version) and
    /// handshakes cut off by `tlsHandshakeTimeout`.
    public internal(set) var tlsHandshakeFailures = 0
    public internal(set) var tlsHandshakeTimeouts = 0
    /// Loop turns (epoll waits) so far: what tells a same-turn hand-off from a next-turn one.
    public private(set) var turns = 0

    /// Called once per loop turn before flushing (Redis's beforesleep); the hub uses nothing here
    /// today, but periodic gauges do.
    public var beforeSleep: (() -> Void)?

    private static let mailboxToken: UInt64 = 1
    private static let timerToken: UInt64 = 2
    private static let signalToken: UInt64 = 3
    private var signalFD: Int32 = -1
    private var onSignal: ((Int32) -> Void)?
    private static let listenerTokenBase: UInt64 = 1 << 62

    public init(options: Options = Options()) throws(ReactorError) {
        self.options = options
        _ = lw_raise_nofile_limit()
        signal(SIGPIPE, SIG_IGN)
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        if epfd < 0 { throw .system("epoll_create1", errno) }
        mailbox = try Mailbox()
        timerFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        if timerFD < 0 { throw .system("timerfd_create", errno) }
        _ = lw_epoll_ctl(epfd, EPOLL_CTL_ADD, mailbox.fd, UInt32(EPOLLIN.rawValue), Self.mailboxToken)
        _ = lw_epoll_ctl(epfd, EPOLL_CTL_ADD, timerFD, UInt32(EPOLLIN.rawValue), Self.timerToken)
    }

    deinit {
        iovScratch.deallocate()
        recordScratch.deallocate()
    }

    public var connectionCount: Int { connections.count }
    public var allConnections: Dictionary<UInt64, Connection>.Values { connections.values }

    // MARK: Cross-thread door

    /// Runs `work` on the loop thread, in posting order. Safe from any thread. Posted from the
    /// loop's own thread, it runs later in the same turn, before the turn's flush (no eventfd
    /// round trip): that is how work the loop hands itself, such as an in-loop commit's fan-out
    /// and acks, reaches the wire in the flush of the turn that read its request.
    public func post(_ work: @escaping @Sendable () -> Void) {
        mailbox.post(work, wake: !isLoopThread)
    }

    // MARK: Listening

    /// Binds and listens; `onAccept` gets each new connection (set its handler there). With
    /// `tls`, every connection on this port speaks TLS; the handler sees only decrypted bytes, and
    /// only after the handshake. Returns the bound port (useful with port 0).
    @discardableResult
    public func listen(host: String, port: Int, tls: TLSContext? = nil,
                       onAccept: @escaping (Connection) -> Void) throws(ReactorError) -> Int {
        let fd = try Sockets.listeningSocket(host: host, port: port)
        listeners[fd] = Listener(onAccept: onAccept, tls: tls)
        _ = lw_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, UInt32(EPOLLIN.rawValue), Self.listenerTokenBase | UInt64(fd))
        return try Sockets.boundPort(fd)
    }

    /// New connections on every TLS listener use `context` from now on (certificate reload);
    /// established connections keep the context they were accepted with. Returns how many
    /// listeners changed.
    @discardableResult
    public func replaceTLSContext(_ context: TLSContext) -> Int {
        var replaced = 0
        for fd in listeners.keys where listeners[fd]?.tls != nil {
            listeners[fd]?.tls = context
            replaced += 1
        }
        return replaced
    }

    /// Stops accepting new connections (graceful shutdown); existing ones go on.
    public func closeListeners() {
        for fd in listeners.keys {
            _ = lw_epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0, 0)
            Glibc.close(fd)
        }
        listeners.removeAll()
    }

    private func acceptAll(listenerFD: Int32) {
        guard let listener = listeners[listenerFD] else { return }
        for _ in 0..<64 {   // bounded per turn so a connect storm cannot starve established clients
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    lw_accept_nonblocking(listenerFD, $0, &length)
                }
            }
            if fd < 0 {
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    pauseAccepting(for: 0.1)   // out of descriptors: back off instead of spinning on a ready listener
                }
                return
            }
            if connections.count >= options.maxConnections {
                rejectedOverLimit += 1
                if listener.tls == nil {   // a TLS client could not read a clear-text answer
                    options.overloadResponse.withUnsafeBytes { _ = Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                Glibc.close(fd)
                continue
            }
            let (peer, loopback) = Sockets.describe(address)
            let peerAddress = Connection.address(ofPeer: peer)
            if connectionsPerAddress[peerAddress, default: 0] >= options.maxConnectionsPerAddress {
                rejectedPerAddress += 1
                if listener.tls == nil {
                    options.overloadResponse.withUnsafeBytes { _ = Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                Glibc.close(fd)
                continue
            }
            var session: TLSSession?
            if let context = listener.tls {
                session = TLSSession(context: context, fd: fd)
                if session == nil {
                    Glibc.close(fd)
                    continue
                }
            }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connection = Connection(id: nextID, fd: fd, peer: peer, isLoopbackPeer: loopback,
                                        backlog: OutboundBacklog(cap: options.outboundCapBytes,
                                                                         hardCap: options.outboundHardCapBytes ?? options.outboundCapBytes * 16,
                                                                         drainSeconds: options.outboundDrainSeconds),
                                        tls: session, loop: self)
            nextID += 1
            connections[connection.id] = connection
            connectionsPerAddress[peerAddress, default: 0] += 1
            acceptedTotal += 1
            _ = lw_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, Self.readInterest, connection.id)
            if session != nil { scheduleHandshakeTimeout(connection) }
            listener.onAccept(connection)
        }
    }

    private func scheduleHandshakeTimeout(_ connection: Connection) {
        schedule(after: options.tlsHandshakeTimeout) { [unowned self, weak connection] in
            guard let connection, !connection.isClosed, connection.tls?.isHandshaking == true else { return }
            tlsHandshakeTimeouts += 1
            connection.close()
        }
    }

    private func pauseAccepting(for seconds: Double) {
        guard !listenersPaused else { return }
        listenersPaused = true
        for fd in listeners.keys { _ = lw_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, 0, Self.listenerTokenBase | UInt64(fd)) }
        schedule(after: seconds) { [unowned self] in
            listenersPaused = false
            for fd in listeners.keys {
                _ = lw_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, UInt32(EPOLLIN.rawValue), Self.listenerTokenBase | UInt64(fd))
            }
        }
    }

    // MARK: Signals

    /// Delivers signals from a signalfd (see `lw_block_shutdown_signals`) on the loop thread, so
    /// shutdown runs as ordinary loop work with no async-signal-safety concerns.
    public func watchSignals(fd: Int32, _ handler: @escaping (Int32) -> Void) {
        signalFD = fd
        onSignal = handler
        _ = lw_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, UInt32(EPOLLIN.rawValue), Self.signalToken)
    }

    // MARK: Timers

    /// Runs `work` on the loop thread once, after `seconds`.
    public func schedule(after seconds: Double, _ work: @escaping () -> Void) {
        timers.push(deadline: Monotonic.now().adding(seconds: seconds), work: work)
        armTimer()
    }

    private func armTimer() {
        guard let next = timers.nextDeadline else { return }
        let delta = max(next.nanoseconds - Monotonic.now().nanoseconds, 1_000)   // 0 would disarm
        var spec = itimerspec()
        spec.it_value = timespec(tv_sec: Int(delta / 1_000_000_000), tv_nsec: Int(delta % 1_000_000_000))
        _ = timerfd_settime(timerFD, 0, &spec, nil)
    }

    private func runDueTimers() {
        var expirations: UInt64 = 0
        _ = Glibc.read(timerFD, &expirations, 8)
        let now = Monotonic.now()
        while let work = timers.popDue(now: now) { work() }
        armTimer()
    }

    // MARK: Running

    /// The thread that owns the loop: the one that created it, then the one that runs it.
    /// `LoopBound` checks against it.
    private var ownerThread = pthread_self()

    /// True on the loop's own thread.
    public var isLoopThread: Bool { pthread_equal(pthread_self(), ownerThread) != 0 }

    /// Runs until `stop()`; returns after the current turn completes.
    public func run() {
        ownerThread = pthread_self()
        running = true
        // Housekeeping: keepalives, idle and close deadlines.
        schedule(after: 1) { [unowned self] in housekeeping() }
        let maxEvents = 256
        var tokens = [UInt64](repeating: 0, count: maxEvents)
        var events = [UInt32](repeating: 0, count: maxEvents)
        while running {
            turns &+= 1
            let timeout: Int32 = pendingWrites.isEmpty && pendingReads.isEmpty && mailbox.isEmpty ? 1000 : 0
            let n = lw_epoll_wait(epfd, &tokens, &events, Int32(maxEvents), timeout)
            if n < 0 && errno != EINTR { break }
            for i in 0..<max(Int(n), 0) {
                let token = tokens[i]
                switch token {
                case Self.mailboxToken: mailbox.drain()
                case Self.timerToken: runDueTimers()
                case Self.signalToken:
                    while case let signalNumber = lw_read_signal(signalFD), signalNumber != 0 { onSignal?(signalNumber) }
                case let t where t & Self.listenerTokenBase != 0:
                    acceptAll(listenerFD: Int32(truncatingIfNeeded: t & ~Self.listenerTokenBase))
                default:
                    guard let connection = connections[token] else { continue }
                    let flags = events[i]
                    let readable = flags & UInt32(EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
                    if flags & UInt32(EPOLLOUT.rawValue) != 0 {
                        markPendingWrite(connection)
                        // A handshake or a read that stopped on WANT_WRITE resumes on writability.
                        if !readable, let tls = connection.tls, tls.isHandshaking || tls.readWantsWrite {
                            readAvailable(connection)
                        }
                    }
                    if readable { readAvailable(connection) }
                }
            }
            if !pendingReads.isEmpty {
                let batch = pendingReads
                pendingReads.removeAll(keepingCapacity: true)
                for connection in batch {
                    connection.pendingRead = false
                    if !connection.isClosed { readAvailable(connection) }
                }
            }
            // Work the loop posted to itself during the turn (and anything it posts in turn, a
            // bounded number of rounds: a self-reposting chain must not starve the sockets).
            var rounds = 0
            while rounds < Self.endOfTurnRounds, mailbox.drain(resetWake: false) { rounds += 1 }
            beforeSleep?()
            flushPendingWrites()
        }
    }

    /// How many times the end of a turn drains the mailbox before it flushes and goes back to
    /// epoll; what remains wakes the next turn at once.
    private static let endOfTurnRounds = 8

    public func stop() { running = false }

    private func housekeeping() {
        let now = Monotonic.now()
        for connection in Array(connections.values) {
            if let deadline = connection.closingDeadline, deadline < now {
                connection.close()
                continue
            }
            judgeBacklog(connection, now: now)
            if connection.isClosed { continue }
            connection.handler?.tick(connection, now: now)
        }
        schedule(after: 1) { [unowned self] in housekeeping() }
    }

    // MARK: Reading

    private func readAvailable(_ connection: Connection) {
        if let tls = connection.tls {
            readTLS(connection, tls)
            return
        }
        var budget = options.readBudgetPerTurn
        // A handler may pause reading from inside `received`: then not one more read this turn.
        while budget > 0 && !connection.isClosed && !connection.readingPaused {
            let n = readScratch.withUnsafeMutableBytes { Glibc.read(connection.fd, $0.baseAddress, $0.count) }
            if n > 0 {
                budget -= n
                deliver(n, to: connection)
                if n < readScratch.count { return }
            } else if n == 0 {
                connection.close()   // peer closed (or finished our half-close)
                return
            } else {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
                connection.close()
                return
            }
        }
    }

    /// Hands the first `count` bytes of the read scratch to the handler (unless closing).
    func deliver(_ count: Int, to connection: Connection) {
        connection.bytesIn += count
        bytesIn += count
        connection.lastActivity = Monotonic.now()
        if connection.closingDeadline == nil {
            connection.handler?.received(readScratch[0..<count], on: connection)
        }
    }

    func withReadScratch<Result>(_ body: (UnsafeMutableRawBufferPointer) -> Result) -> Result {
        readScratch.withUnsafeMutableBytes { body($0) }
    }

    func markPendingRead(_ connection: Connection) {
        if !connection.pendingRead {
            connection.pendingRead = true
            pendingReads.append(connection)
        }
    }

    // MARK: Writing

    func markPendingWrite(_ connection: Connection) {
        if !connection.pendingWrite {
            connection.pendingWrite = true
            pendingWrites.append(connection)
        }
    }

    func withIOVecScratch(_ body: (UnsafeMutableBufferPointer<iovec>) -> Int) -> Int {
        body(iovScratch)
    }

    func withRecordScratch<Result>(_ body: (UnsafeMutableRawBufferPointer) -> Result) -> Result {
        body(recordScratch)
    }

    static let readInterest = UInt32(EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
    static let writeInterest = UInt32(EPOLLOUT.rawValue)

    /// Reading is always of interest and writability only while queued output waits — except
    /// when OpenSSL is blocked on the other direction: a TLS handshake or read that stopped on
    /// WANT_WRITE waits for writability alone (level-triggered EPOLLIN would spin on input it
    /// cannot process yet), and a write that stopped on WANT_READ does not arm EPOLLOUT.
    func updateInterest(_ connection: Connection) {
        let reading = connection.readingPaused ? 0 : Self.readInterest
        var interest = reading
        if let tls = connection.tls {
            if tls.isHandshaking ? tls.handshakeWantsWrite : tls.readWantsWrite {
                interest = Self.writeInterest
            } else if !tls.isHandshaking && connection.hasUnsentOutput && !tls.writeWantsRead {
                interest |= Self.writeInterest
            }
        } else if !connection.outbound.isEmpty {
            interest |= Self.writeInterest
        }
        guard interest != connection.interest else { return }
        connection.interest = interest
        _ = lw_epoll_ctl(epfd, EPOLL_CTL_MOD, connection.fd, interest, connection.id)
    }

    private func flushPendingWrites() {
        guard !pendingWrites.isEmpty else { return }
        let batch = pendingWrites
        pendingWrites.removeAll(keepingCapacity: true)
        let now = Monotonic.now()
        for connection in batch {
            connection.pendingWrite = false
            guard !connection.isClosed else { continue }
            if !connection.flush() {
                connection.close()
                continue
            }
            judgeBacklog(connection, now: now)
            if connection.isClosed { continue }
            if connection.readingPaused && connection.outbound.byteCount <= connection.outboundCap {
                connection.handler?.outboundDrained(connection)
                if connection.isClosed { continue }
            }
            updateInterest(connection)
            if !connection.hasUnsentOutput && connection.closingDeadline != nil {
                if let tls = connection.tls {
                    if tls.isHandshaking {   // nothing was ever said inside TLS
                        connection.close()
                        continue
                    }
                    tls.sendCloseNotify()
                }
                // Everything is out: half-close so the peer reads our last bytes before any reset,
                // then the read side's EOF (or the deadline) closes the descriptor.
                shutdown(connection.fd, Int32(SHUT_WR))
            }
        }
    }

    /// A connection falling behind (see `OutboundBacklog`) is reported to its handler once.
    private func judgeBacklog(_ connection: Connection, now: Monotonic) {
        guard !connection.overflowReported, connection.closingDeadline == nil else { return }
        if connection.backlog.isFallingBehind(queued: connection.outbound.byteCount, now: now) {
            connection.overflowReported = true
            connection.handler?.outboundOverflowed(connection)
        }
    }

    func connectionDidClose(_ connection: Connection) {
        connection.tls?.sendCloseNotify()   // best effort; a no-op after errors or a half-close
        connection.tls = nil                 // free the SSL now, not when the last reference goes
        _ = lw_epoll_ctl(epfd, EPOLL_CTL_DEL, connection.fd, 0, 0)
        Glibc.close(connection.fd)
        connections.removeValue(forKey: connection.id)
        let peerAddress = connection.peerAddress
        if let count = connectionsPerAddress[peerAddress] {
            if count <= 1 { connectionsPerAddress.removeValue(forKey: peerAddress) } else { connectionsPerAddress[peerAddress] = count - 1 }
        }
        connection.handler?.closed(connection)
        connection.handler = nil   // break the handler ↔ connection cycle
    }
}
