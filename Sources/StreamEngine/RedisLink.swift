import Bytes
import RESP
import Reactor

/// One connection to Redis, driven by the loop: connect without blocking, say hello (`AUTH`,
/// `SELECT`, `PING`), then send commands and hand each reply to its callback in order (Redis
/// answers in order, so the callbacks form a FIFO). When the connection drops, every waiting
/// callback gets `.down`, and the link reconnects after a growing pause (0.1 s doubling to 5 s).
///
/// Loop-confined: every method runs on the loop thread.
public final class RedisLink: ConnectionHandler {
    public enum Failure: Error, Equatable, Sendable {
        /// The connection dropped (or was never up) before the reply came.
        case down(String)
    }
    public typealias Reply = (Result<RESPValue, Failure>) -> Void

    public enum State: Equatable, Sendable {
        case connecting
        case ready
        /// Down, retrying; the reason is for operators (`connection refused`, `AUTH failed …`).
        case down(String)
    }

    public let endpoint: RedisEndpoint
    private let loop: EventLoop
    private let log: (String) -> Void
    public private(set) var state: State = .down("not started")
    /// Called on every change of `state`.
    public var onStateChange: ((State) -> Void)?

    private var connection: Connection?
    /// For `rediss://`: made once, on the first connect.
    private var tlsContext: TLSContext?
    private var parser = RESPParser()
    /// Commands sent and not answered yet, oldest first, with the time each reply is due by.
    private var waiting: [(reply: Reply, due: Monotonic)] = []
    private var waitingHead = 0
    private var attempt = 0
    private var stopped = false
    /// A command (other than a blocking read) unanswered for this long means the server hangs:
    /// the link drops and reconnects.
    public var replyTimeout: Double = 10
    public var initialBackoff: Double = 0.1
    public var maxBackoff: Double = 5
    public private(set) var connects = 0
    public private(set) var failures = 0

    public init(endpoint: RedisEndpoint, loop: EventLoop, log: @escaping (String) -> Void) {
        self.endpoint = endpoint
        self.loop = loop
        self.log = log
        replyTimeout = endpoint.replyTimeout
    }

    public func start() {
        stopped = false
        connect()
    }

    public func stop() {
        stopped = true
        connection?.close()
    }

    /// Sends `command`; `reply` gets the answer (a `.error` reply is a success at this level:
    /// the server answered). Before the link is ready it fails at once with `.down`. A command
    /// that may block on the server (`XREAD BLOCK`) names how long in `blocksFor`: its reply is
    /// due that much later.
    public func send(_ command: RESPCommand, blocksFor: Double = 0, reply: @escaping Reply) {
        guard state == .ready, let connection else {
            reply(.failure(.down(downReason)))
            return
        }
        write(command, on: connection, blocksFor: blocksFor, reply: reply)
    }

    private var downReason: String {
        if case .down(let reason) = state { return reason }
        return "connecting"
    }

    private func write(_ command: RESPCommand, on connection: Connection, blocksFor: Double, reply: @escaping Reply) {
        waiting.append((reply, Monotonic.now().adding(seconds: replyTimeout + blocksFor)))
        connection.send(command.encoded)
    }

    private func setState(_ new: State) {
        guard new != state else { return }
        state = new
        onStateChange?(new)
    }

    private func connect() {
        guard !stopped, connection == nil else { return }
        setState(.connecting)
        parser = RESPParser()
        if endpoint.tls && tlsContext == nil {
            do { tlsContext = try TLSContext.client(caFile: endpoint.caFile) } catch {
                fail("TLS: \(error.description)")
                return
            }
        }
        let opened: Connection
        do { opened = try loop.connect(host: endpoint.host, port: endpoint.port, tls: tlsContext, handler: self) } catch {
            fail("\(error)")
            return
        }
        connection = opened
        // The hello, pipelined; the link is ready when the PING is answered.
        if let password = endpoint.password {
            var arguments: [[UInt8]] = [Array("AUTH".utf8)]
            if let username = endpoint.username { arguments.append(Array(username.utf8)) }
            arguments.append(Array(password.utf8))
            write(RESPCommand(arguments), on: opened, blocksFor: 0) { [weak self] result in
                if case .success(.error(let message)) = result { self?.drop("AUTH failed: \(message)") }
            }
        }
        if let database = endpoint.database {
            write(RESPCommand(["SELECT", String(database)]), on: opened, blocksFor: 0) { [weak self] result in
                if case .success(.error(let message)) = result { self?.drop("SELECT \(database) failed: \(message)") }
            }
        }
        write(RESPCommand(["PING"]), on: opened, blocksFor: 0) { [weak self] result in
            guard let self, case .success(let value) = result else { return }
            if case .error(let message) = value { drop("PING failed: \(message)"); return }
            attempt = 0
            connects += 1
            lastLoggedReason = nil
            log("stream engine \(endpoint) connected")
            setState(.ready)
        }
    }

    /// Closes the connection with a reason; `closed` then fails the callbacks and retries.
    private func drop(_ reason: String) {
        pendingReason = reason
        connection?.close()
    }
    private var pendingReason: String?

    /// Marks the link down and schedules the next attempt. Logs once per outage and reason, not
    /// once per attempt.
    private func fail(_ reason: String) {
        failures += 1
        if reason != lastLoggedReason {
            log("stream engine \(endpoint) down: \(reason)")
            lastLoggedReason = reason
        }
        setState(.down(reason))
        guard !stopped else { return }
        attempt += 1
        var delay = initialBackoff
        for _ in 1..<max(min(attempt, 20), 1) where delay < maxBackoff { delay *= 2 }
        loop.schedule(after: min(delay, maxBackoff)) { [weak self] in self?.connect() }
    }
    private var lastLoggedReason: String?

    // MARK: ConnectionHandler

    public func received(_ bytes: ArraySlice<UInt8>, on connection: Connection) {
        parser.feed(bytes)
        while true {
            let value: RESPValue?
            do { value = try parser.next() } catch {
                drop(error.description)
                return
            }
            guard let value else { return }
            guard waitingHead < waiting.count else {
                drop("a reply came that no command asked for")
                return
            }
            let entry = waiting[waitingHead]
            waitingHead += 1
            if waitingHead == waiting.count { waiting.removeAll(keepingCapacity: true); waitingHead = 0 }
            entry.reply(.success(value))
            if connection.isClosed { return }
        }
    }

    /// Once a second: a reply overdue (a hung server, a silent network) drops the link, which
    /// then reconnects like after any loss.
    public func tick(_ connection: Connection, now: Monotonic) {
        guard waitingHead < waiting.count else { return }
        if waiting[waitingHead...].contains(where: { $0.due < now }) {
            drop("no reply from Redis within \(Int(replyTimeout)) s")
        }
    }

    public func closed(_ connection: Connection) {
        guard connection === self.connection else { return }
        self.connection = nil
        let unreachable = endpoint.tls
            ? "cannot connect to \(endpoint.host):\(endpoint.port) over TLS (refused, or the handshake failed: is the certificate trusted and for this host?)"
            : "cannot connect to \(endpoint.host):\(endpoint.port)"
        let reason = pendingReason ?? (state == .connecting ? unreachable : "connection closed")
        pendingReason = nil
        let orphans = waiting[waitingHead...]
        waiting = []
        waitingHead = 0
        fail(reason)
        for entry in orphans { entry.reply(.failure(.down(reason))) }
    }
}
