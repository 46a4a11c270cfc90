import Bytes
import HTTPCore
import Hub
import Ingest
import JSON
import Ledger
import Reactor
import WebSocketCore
import Wire

/// `/ws`: snapshot (or journal replay) on connect, then live deltas; client messages change the
/// filter or ask for views. Text mode (`?format=text`) takes typed commands instead of JSON.
final class SubscriberEndpoint: WebSocketEndpoint {
    private unowned let context: ServerContext
    let principal: Principal
    private let resumeSince: Int64?
    private let resumeEpoch: String?
    private var subscriber: Subscriber?
    /// The session this endpoint serves (it owns the endpoint, hence weak).
    private weak var session: WebSocketSession?
    private let format: WireFormat
    private var initialFilter: SubscriptionFilter
    private var filterError: String?

    /// Every channel, built once and shared: most subscribers take them all, and filters that
    /// share one set's storage compare equal at once when the hub looks up their group (building
    /// and comparing the set per connection cost ~10,000 instructions).
    private static let everyChannel = Set(Channel.allCases)

    init(context: ServerContext, principal: Principal, request: HTTPRequest, subprotocol: String?) {
        self.context = context
        self.principal = principal
        let wantsText = request.query["format"] == "text" || subprotocol == "ladderwire.text"
        format = wantsText ? .text : .json
        resumeSince = request.query["since"].flatMap { Int64($0) }
        resumeEpoch = request.query["epoch"]
        var filter = SubscriptionFilter(channels: Self.everyChannel, allowedAccounts: principal.accounts)
        func list(_ key: String) -> Set<String>? {
            guard let raw = request.query[key], !raw.isEmpty else { return nil }
            return Set(raw.split(separator: ",").map(String.init))
        }
        filter.accounts = list("accounts")
        filter.instruments = list("instruments")
        if let names = list("channels") {
            let channels = names.compactMap(Channel.init(rawValue:))
            if channels.count != names.count { filterError = "unknown channel in '\(request.query["channels"] ?? "")'" }
            filter.channels = Set(channels)
        }
        initialFilter = filter
    }

    func opened(_ session: WebSocketSession) {
        let subscriber = Subscriber(id: session.connection.id, sink: session, format: format, filter: initialFilter,
                                    deflate: session.deflate)
        self.subscriber = subscriber
        self.session = session
        context.hub.add(subscriber)
        if let since = resumeSince {
            requestResume(since: since, epoch: resumeEpoch)
        } else {
            requestSnapshot(resync: false)
        }
        // The complaint about the query follows the snapshot (or the resume's first chunk), which
        // stays the first message: sent when that lands (`sendQueryComplaint`).
        queryComplaint = filterError
    }

    /// A complaint about the connect query, waiting for the first snapshot or resume chunk.
    private var queryComplaint: String?

    private func sendQueryComplaint() {
        guard let complaint = queryComplaint, let session else { return }
        queryComplaint = nil
        sendError(session, code: "bad_filter", message: complaint)
    }

    // MARK: Snapshot and resume (built where the source orders reads with publishes, delivered in seq order)

    /// Counts snapshot and resume requests: only the answer to the latest may reach the hub.
    /// Snapshots are written off the writer and a cached one can overtake one still being
    /// written, so a `subscribe` followed quickly by another must not end with the first
    /// filter's snapshot delivered last.
    private var snapshotRequest = 0

    private func requestSnapshot(resync: Bool) {
        guard let subscriber else { return }
        context.hub.awaitSnapshot(subscriber)
        snapshotRequest += 1
        let id = subscriber.id, filter = subscriber.filter, format = subscriber.format, request = snapshotRequest
        let board = context.statusBoard
        let target = LoopBound(self, on: context.loop)
        let queued = context.source.snapshotFrame(filter: filter, format: format, resync: resync, monitors: { board.all }) { answer in
            target.post { $0.deliver(answer, to: id, resync: resync, request: request) }
        }
        if !queued { session?.close(ServerContext.busyClose, reason: "server busy, reconnect shortly") }
    }

    /// A snapshot to the hub, or the close that says why there is none. A snapshot older than
    /// the hub's kept history (a reused frame that waited too long) is asked for again.
    private func deliver(_ answer: SnapshotAnswer, to id: UInt64, resync: Bool, request: Int) {
        guard request == snapshotRequest else { return }   // superseded by a later request
        switch answer {
        case .frame(let seq, let frame):
            if context.hub.deliverSnapshot(to: id, seq: seq, frame: frame) {
                sendQueryComplaint()
            } else if subscriber?.id == id {
                requestSnapshot(resync: resync)
            }
        case .refused(let reason):
            session?.close(.internalError, reason: String(reason.prefix(120)))
        }
    }

    private func requestResume(since: Int64, epoch: String?, continuing: Bool = false) {
        guard let subscriber else { return }
        context.hub.awaitSnapshot(subscriber)
        snapshotRequest += 1
        let id = subscriber.id, filter = subscriber.filter, format = subscriber.format, request = snapshotRequest
        let board = context.statusBoard
        let target = LoopBound((endpoint: self, hub: context.hub), on: context.loop)
        // Chunks of half the outbound cap: a long replay never trips the slow-consumer close.
        let chunk = max(context.config.limits.outboundCapBytes / 2, 4096)
        let queued = context.source.resume(since: since, epoch: epoch, filter: filter, format: format, continuing: continuing, maxBytes: chunk,
                              monitors: { board.all }) { answer in
            switch answer {
            case .replay(let frames, let upTo, let complete):
                target.post {
                    guard request == $0.endpoint.snapshotRequest else { return }   // superseded
                    $0.hub.deliverResume(to: id, frames: frames, upTo: upTo, complete: complete)
                    $0.endpoint.sendQueryComplaint()
                    if !complete { $0.endpoint.continueResumeWhenDrained() }
                }
            case .resync(let snapshot):
                target.post { $0.endpoint.deliver(snapshot, to: id, resync: true, request: request) }
            }
        }
        if !queued { session?.close(ServerContext.busyClose, reason: "server busy, reconnect shortly") }
    }

    /// Asks for the next replay chunk once the client has read most of the previous one.
    private func continueResumeWhenDrained() {
        guard let subscriber, let connection = session?.connection, !connection.isClosed else { return }
        if connection.outbound.byteCount <= context.config.limits.outboundCapBytes / 4 {
            requestResume(since: subscriber.lastSeq, epoch: nil, continuing: true)
        } else {
            context.loop.schedule(after: 0.002) { [weak self] in self?.continueResumeWhenDrained() }
        }
    }

    // MARK: Client messages

    // Client commands (subscribe, text commands; not JSON pings) per connection: a bucket of
    // `commandBurst` refilled at `commandsPerSecond`. Beyond it a command is dropped with one
    // `rate_limited` error per second; `floodCloseAfter` drops in a row close with 1008.
    static let commandsPerSecond = 10.0
    static let commandBurst = 20.0
    static let floodCloseAfter = 200
    private var commandCredit = SubscriberEndpoint.commandBurst
    private var creditUpdatedAt = Monotonic.now()
    private var droppedInARow = 0
    private var lastRateError: Monotonic?

    private static func isPing(_ event: WebSocketEvent) -> Bool {
        // A byte scan first: `String.contains` goes through Foundation's locale-aware search,
        // a measurable cost when a client floods commands.
        guard case .text(let text) = event, text.utf8.count <= 256, text.utf8.firstRange(of: "ping".utf8) != nil else { return false }
        return (try? JSONValue.parse(text))?["type"]?.stringValue == "ping"
    }

    private func admitCommand(_ session: WebSocketSession) -> Bool {
        let now = Monotonic.now()
        commandCredit = min(Self.commandBurst, commandCredit + now.seconds(since: creditUpdatedAt) * Self.commandsPerSecond)
        creditUpdatedAt = now
        // The connection's own budget first, then its host's (shared by all its connections: a
        // client that reconnects gets a fresh connection budget, not a fresh host budget).
        if commandCredit >= 1, context.viewerRequests.admit(session.connection.peerAddress) {
            commandCredit -= 1
            droppedInARow = 0
            return true
        }
        droppedInARow += 1
        if droppedInARow >= Self.floodCloseAfter {
            session.close(.policyViolation, reason: "command flood")
        } else if lastRateError.map({ now.seconds(since: $0) >= 1 }) ?? true {
            lastRateError = now
            sendError(session, code: "rate_limited",
                      message: "more than \(Int(Self.commandsPerSecond)) commands a second (burst \(Int(Self.commandBurst))): commands dropped")
        }
        return false
    }

    func received(_ event: WebSocketEvent, on session: WebSocketSession) {
        // A JSON `ping` costs the ingest thread nothing (clients use it as a barrier): not counted.
        if !(format == .json && Self.isPing(event)) {
            guard admitCommand(session) else { return }
        }
        guard case .text(let text) = event else {
            sendError(session, code: "bad_message", message: "binary messages are not understood on /ws")
            return
        }
        if format == .text {
            TextCommands(endpoint: self, session: session).run(text)
            return
        }
        guard let message = try? JSONValue.parse(text), let type = message["type"]?.stringValue else {
            sendError(session, code: "bad_message", message: "expected a JSON object with a 'type'")
            return
        }
        switch type {
        case "subscribe":
            do {
                try applyFilter(accounts: message["accounts"], instruments: message["instruments"], channels: message["channels"])
                requestSnapshot(resync: false)
            } catch {
                sendError(session, code: "bad_filter", message: error.description)
            }
        case "ping":
            send(.pong(id: message["id"], seq: subscriber?.lastSeq ?? 0), on: session)
        default:
            sendError(session, code: "bad_message", message: "unknown message type '\(type)' (subscribe, ping)")
        }
    }

    struct FilterError: Error, CustomStringConvertible { var description: String }

    func applyFilter(accounts: JSONValue?, instruments: JSONValue?, channels: JSONValue?) throws(FilterError) {
        guard let subscriber else { return }
        func set(_ value: JSONValue?, _ name: String) throws(FilterError) -> Set<String>? {
            switch value {
            case nil, .null?: return nil
            case .array(let items)?:
                var out = Set<String>()
                for item in items {
                    guard let s = item.stringValue else { throw FilterError(description: "'\(name)' must be a list of strings") }
                    out.insert(s)
                }
                return out
            default: throw FilterError(description: "'\(name)' must be a list of strings or null")
            }
        }
        var filter = subscriber.filter
        filter.accounts = try set(accounts, "accounts")
        filter.instruments = try set(instruments, "instruments")
        if let names = try set(channels, "channels") {
            var parsed = Set<Channel>()
            for name in names {
                guard let channel = Channel(rawValue: name) else {
                    throw FilterError(description: "unknown channel '\(name)' (fills, positions, pnl, marks, risk, status)")
                }
                parsed.insert(channel)
            }
            filter.channels = parsed
        } else {
            filter.channels = Self.everyChannel
        }
        context.hub.update(subscriber, filter: filter)
    }

    func sendError(_ session: WebSocketSession, code: String, message: String) {
        send(.error(code: code, message: message), on: session)
    }

    /// One message outside the hub's fan-out (errors, pongs, heartbeats), in this client's format.
    private func send(_ message: SubscriberMessage, on session: WebSocketSession) {
        let encoder = context.source.encoder
        switch format {
        case .json: session.sendText(bytes: encoder.json(message))
        case .text: session.sendText(TextRenderer(encoder: encoder).line(message))
        }
    }

    // MARK: Housekeeping

    func tick(_ session: WebSocketSession, now: Monotonic) {
        if !context.authenticator.tokens.admits(principal, now: wallClockNanos()) {
            session.close(.tokenExpired, reason: "token expired or revoked")
            return
        }
        guard let subscriber, subscriber.phase == .live,
              now.seconds(since: subscriber.lastSendTime) >= Double(context.config.limits.heartbeatSeconds) else { return }
        send(.heartbeat(seq: subscriber.lastSeq, time: wallClockNanos()), on: session)
        subscriber.lastSendTime = now
    }

    func closed(_ session: WebSocketSession) {
        if let subscriber { context.hub.remove(id: subscriber.id) }
        subscriber = nil
    }

    // MARK: For text commands

    var currentSubscriber: Subscriber? { subscriber }
    var serverContext: ServerContext { context }
    func resnapshot() { requestSnapshot(resync: false) }
}
