import RESP
import Reactor

/// Publishes committed events to a Redis Stream, one entry per event, ID `<seq>-0`.
///
/// The position is never guessed. On every (re)connect the publisher asks the stream for its top
/// entry (`XREVRANGE key + - COUNT 1`) and continues from just after it, reading the journal for
/// everything the stream lacks:
/// - top from this journal's epoch: continue at top + 1 (if the top is below the cursor this
///   journal recorded, Redis lost acknowledged entries, e.g. a restart without fsync; they are
///   sent again and counted in `republished`);
/// - empty stream: start at the window's first seq (`lastSeq - window + 1`), so a fresh Redis
///   holds a full window again;
/// - top from another epoch, or above this journal's last seq: the stream belongs to another
///   database; it is deleted and refilled (edges see the new epoch and resync).
///
/// `XADD` with an explicit ID is refused for an ID not above the top, so nothing is ever stored
/// twice; as this publisher only sends seqs above the top it read on this connection, such a
/// refusal means another writer: the publisher reconnects and decides again from the top (a
/// foreign or malformed top entry gets the stream replaced). `MAXLEN ~ window` trims as it goes
/// (whole macro nodes, so the stream keeps at least `window` entries).
///
/// While Redis is down nothing is buffered in memory: the journal is the outbox. At most
/// `maxInFlight` XADDs wait for replies; journal reads come in pages of `pageSize`.
public final class RedisStreamPublisher: StreamPublisher {
    public let endpoint: RedisEndpoint
    private let link: RedisLink
    private let loop: EventLoop
    private let journal: JournalTap
    private let log: (String) -> Void
    public private(set) var status = PublisherStatus()

    /// The next seq to send; nil until the stream's top is known on this connection.
    private var next: Int64?
    private var reading = false
    private var inFlight = 0
    /// Bumped on every connect: a reply or read for an older connection is ignored.
    private var generation = 0
    private var recording = false
    private var recordedSeq: Int64
    public var pageSize = 500
    public var maxInFlight = 2_000

    public init(endpoint: RedisEndpoint, loop: EventLoop, journal: JournalTap, log: @escaping (String) -> Void) {
        self.endpoint = endpoint
        self.journal = journal
        self.log = log
        self.loop = loop
        link = RedisLink(endpoint: endpoint, loop: loop, log: log)
        recordedSeq = journal.recordedPublished
        status.engine = endpoint.description
        status.committedSeq = journal.lastSeq
        status.publishedSeq = journal.recordedPublished
        link.onStateChange = { [unowned self] state in linkChanged(state) }
    }

    public func start() {
        link.start()
        scheduleHeartbeat()
    }

    public func stop() {
        stopped = true
        link.stop()
    }
    private var stopped = false

    /// While connected, the core refreshes `<key>:core` every second with a 3-second expiry, so
    /// an edge can tell "no events" from "no core" (`RedisStreamFollower.coreAlive`).
    private func scheduleHeartbeat() {
        loop.schedule(after: 1) { [weak self] in
            guard let self, !stopped else { return }
            if link.state == .ready {
                let value = "\(journal.epoch) \(status.publishedSeq)"
                link.send(RESPCommand(["SET", RedisStreamFollower.heartbeatKey(endpoint), value, "PX", "3000"])) { _ in }
            }
            scheduleHeartbeat()
        }
    }

    public func committed(_ entries: [StreamEntry]) {
        guard let last = entries.last else { return }
        status.committedSeq = max(status.committedSeq, last.seq)
        guard next != nil, !reading else { return }
        for entry in entries {
            guard let expected = next else { return }
            if entry.seq < expected { continue }
            guard entry.seq == expected, inFlight < maxInFlight else { break }
            add(entry)
        }
        pump()
    }

    // MARK: Connection

    private func linkChanged(_ state: RedisLink.State) {
        switch state {
        case .connecting:
            break
        case .down(let reason):
            generation += 1
            next = nil
            reading = false
            inFlight = 0
            status.state = .down
            status.reason = reason
        case .ready:
            generation += 1
            next = nil
            reading = false
            inFlight = 0
            status.reason = nil
            findTop()
        }
    }

    /// Reads the stream's last entry and decides where to continue (see the type's comment).
    private func findTop() {
        let current = generation
        link.send(RESPCommand(["XREVRANGE", endpoint.key, "+", "-", "COUNT", "1"])) { [unowned self] result in
            guard current == generation, case .success(let reply) = result else { return }
            if case .error(let message) = reply {
                refuse("XREVRANGE \(endpoint.key) failed: \(message)")
                return
            }
            let windowStart = max(1, status.committedSeq - Int64(endpoint.window) + 1)
            let acknowledged = max(recordedSeq, status.publishedSeq)
            let top: StreamEntry?
            do { top = try StreamEntry.entries(fromRange: reply).first } catch {
                replaceStream(because: "its last entry is not ours (\(error))", windowStart: windowStart)
                return
            }
            guard let top else {
                if acknowledged > 0 { log("stream \(endpoint.key) is empty although seq \(acknowledged) was published: refilling from seq \(windowStart)") }
                if acknowledged >= windowStart { status.republished += acknowledged - windowStart + 1 }
                begin(at: windowStart)
                return
            }
            guard top.epoch == journal.epoch, top.seq <= status.committedSeq else {
                replaceStream(because: "it holds epoch \(top.epoch) up to seq \(top.seq), this journal is epoch \(journal.epoch) up to seq \(status.committedSeq)",
                              windowStart: windowStart)
                return
            }
            if top.seq < acknowledged {
                log("stream \(endpoint.key) ends at seq \(top.seq) but seq \(acknowledged) had been acknowledged: Redis lost entries; sending them again from the journal")
                status.republished += acknowledged - top.seq
            }
            // The stream holds everything up to its top: acknowledged, even if the replies were
            // lost with the previous connection (a hung Redis that worked off its input later).
            if top.seq > status.publishedSeq { self.acknowledged(top.seq) }
            begin(at: top.seq + 1)
        }
    }

    private func replaceStream(because reason: String, windowStart: Int64) {
        let current = generation
        log("stream \(endpoint.key) does not belong to this journal (\(reason)): deleting and refilling it from seq \(windowStart)")
        link.send(RESPCommand(["DEL", endpoint.key])) { [unowned self] result in
            guard current == generation, case .success(let reply) = result else { return }
            if case .error(let message) = reply { refuse("DEL \(endpoint.key) failed: \(message)"); return }
            begin(at: windowStart)
        }
    }

    private func begin(at seq: Int64) {
        next = seq
        pump()
    }

    /// A refusal the link cannot fix by itself (wrong type at the key, out of memory): counted,
    /// logged, and the connection is dropped so the next attempt starts over from the top.
    private func refuse(_ reason: String) {
        status.errors += 1
        status.reason = reason
        log("stream publish: \(reason); reconnecting in \(refusalPause) s")
        link.stop()
        status.reason = reason
        let pause = refusalPause
        refusalPause = min(refusalPause * 2, 5)
        loop.schedule(after: pause) { [weak self] in
            guard let self, !stopped else { return }
            link.start()
        }
    }
    /// Grows with refusals in a row (a key of the wrong type would otherwise loop at once).
    private var refusalPause = 0.1

    // MARK: Sending

    /// Reads the journal for whatever is committed and not yet sent.
    private func pump() {
        guard let expected = next else { return }
        if expected > status.committedSeq {
            status.state = inFlight == 0 ? .publishing : status.state
            return
        }
        status.state = .catchingUp
        guard !reading, inFlight < maxInFlight else { return }
        reading = true
        let current = generation
        journal.read(expected - 1, pageSize) { [unowned self] entries in
            guard current == generation else { return }
            reading = false
            guard let entries else {
                status.errors += 1
                log("stream publish: journal read after seq \(expected - 1) failed; retrying on the next commit")
                return
            }
            for entry in entries {
                guard let want = next else { return }
                if entry.seq < want { continue }
                guard entry.seq == want else {
                    refuse("journal read after seq \(expected - 1) skipped from \(want) to \(entry.seq)")
                    return
                }
                status.committedSeq = max(status.committedSeq, entry.seq)
                add(entry)
            }
            if !entries.isEmpty { pump() }
        }
    }

    private func add(_ entry: StreamEntry) {
        next = entry.seq + 1
        inFlight += 1
        var arguments: [[UInt8]] = [Array("XADD".utf8), Array(endpoint.key.utf8),
                                    Array("MAXLEN".utf8), Array("~".utf8), Array(String(endpoint.window).utf8),
                                    Array(entry.id.utf8)]
        arguments += entry.fields
        let current = generation
        link.send(RESPCommand(arguments)) { [unowned self] result in
            guard current == generation, case .success(let reply) = result else { return }
            inFlight -= 1
            switch reply {
            case .bulk:
                status.sent += 1
                refusalPause = 0.1
                acknowledged(entry.seq)
            case .error(let message) where message.contains("equal or smaller"):
                // On one connection this publisher only sends seqs above the top it read, so
                // another writer got there first: start over from the top, which replaces the
                // stream if that entry is not this journal's.
                refuse("XADD seq \(entry.seq) refused: the stream already holds an entry at or above it (another writer?)")
                return
            case .error(let message):
                refuse("XADD seq \(entry.seq) refused: \(message)")
                return
            default:
                refuse("XADD seq \(entry.seq): unexpected reply")
                return
            }
            if inFlight == 0 && next.map({ $0 > status.committedSeq }) == true { status.state = .publishing }
            if inFlight < maxInFlight / 2 { pump() }
        }
    }

    private func acknowledged(_ seq: Int64) {
        status.publishedSeq = max(status.publishedSeq, seq)
        recordProgress()
    }

    /// Keeps the outbox cursor in the journal: one record in flight at a time, with the newest
    /// acknowledged seq (records coalesce under load).
    private func recordProgress() {
        guard !recording, status.publishedSeq > recordedSeq else { return }
        recording = true
        let value = status.publishedSeq
        journal.record(value) { [unowned self] in
            recording = false
            recordedSeq = max(recordedSeq, value)
            recordProgress()
        }
    }
}
