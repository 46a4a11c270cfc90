import Dispatch
import Bytes
import JSON
import Journal
import Ledger
import Wire

/// What a read sees on the pipeline thread: the committed ledger, the journal, the encoder.
public struct ReadContext: ~Copyable {
    let pipeline: IngestPipeline

    public var ledger: Ledger { pipeline.ledger }
    public var journal: any EventStore { pipeline.journal }
    public var encoder: MessageEncoder { pipeline.encoder }
    public var lastSeq: Int64 { pipeline.journal.lastSeq }
    public var epoch: String { pipeline.epoch }
    /// Why writes stopped (a failed commit whose ledger rebuild failed too): the ledger may then
    /// hold events that were never stored, so no snapshot may be built from it.
    public var writesStopped: String? { pipeline.writesStopped }

    // MARK: Snapshot

    /// The snapshot at `lastSeq` for one filter: the ledger's views it lets through.
    public func snapshot(filter: SubscriptionFilter, resync: Bool = false, monitors: [MonitorStatus] = [],
                         now: Nanos = wallClockNanos(), fills fillCount: Int? = nil) -> Snapshot {
        let ledger = pipeline.ledger
        let count = fillCount ?? pipeline.options.snapshotFills
        let fills = ledger.recentFills(limit: count * 4)
            .filter { filter.permits(account: $0.fill.account) && filter.permits(instrument: $0.fill.instrument) }
            .suffix(count)
        return Snapshot(
            seq: lastSeq, epoch: epoch, resync: resync, time: now,
            positions: ledger.positions.filter { filter.permits(account: $0.account) && filter.permits(instrument: $0.instrument) },
            accounts: ledger.accounts.filter { filter.permits(account: $0.account) },
            desk: filter.allowedAccounts == nil ? ledger.desk : nil,
            marks: ledger.marks.filter { filter.permits(instrument: $0.instrument) },
            fills: fills.map { ($0, pipeline.seq(ofExecId: $0.fill.execId, in: ledger)) },
            monitors: monitors, filter: filter,
            orders: ledger.workingOrders.filter { filter.permits(account: $0.account) && filter.permits(instrument: $0.instrument) })
    }

    /// The snapshot object of docs/protocol.md as JSON bytes (`/api/snapshot`, tests).
    public func snapshotBytes(filter: SubscriptionFilter, resync: Bool, monitors: [MonitorStatus], now: Int64) -> [UInt8] {
        pipeline.encoder.json(snapshot(filter: filter, resync: resync, monitors: monitors, now: now))
    }

    /// Where snapshot frames are encoded: off the pipeline's driver (the event loop under
    /// `normal`, the ingest thread under `full`), so a viewer asking for snapshots costs the
    /// writer only the selection of what goes in (a `Snapshot` value: the lines, totals and
    /// recent fills its filter lets through), not the JSON or text of ~100 KB. One serial
    /// queue: a burst of different filters cannot take both cores from the writer.
    static let encodingQueue = DispatchQueue(label: "ladderwire.snapshot-encoding", qos: .userInitiated)

    /// The snapshot as one frame in the subscriber's format, and the seq it was taken at (at
    /// most `SnapshotCache.maxLagEvents` behind `lastSeq`), handed to `then` — at once from the
    /// cache, else from the encoding queue once the frame is written. Requests for the same
    /// frame while it is being written wait for that one encoding.
    public func snapshotFrame(filter: SubscriptionFilter, format: WireFormat, resync: Bool, monitors: [MonitorStatus],
                              now: Int64, then: @escaping @Sendable (_ seq: Int64, _ frame: SharedBuffer) -> Void) {
        let cache = pipeline.snapshotCache
        let key = SnapshotCache.Key(filter: filter, format: format, resync: resync,
                                    monitors: monitors.map { "\($0.name)|\($0.state.rawValue)|\($0.lastError ?? "")" })
        let clock = Monotonic.now().nanoseconds
        let seq = lastSeq
        switch cache.lookup(key, lastSeq: seq, now: clock, waiter: then) {
        case .ready(let readySeq, let frame):
            then(readySeq, frame)
        case .joined:
            return
        case .encode:
            let snapshot = snapshot(filter: filter, resync: resync, monitors: monitors, now: now)
            let encoder = pipeline.encoder
            Self.encodingQueue.async {
                let frame: SharedBuffer
                switch format {
                case .json: frame = Frames.text(bytes: encoder.json(snapshot))
                case .text: frame = Frames.text(TextRenderer(encoder: encoder).lines(snapshot))
                }
                for waiter in cache.finish(key, seq: seq, takenAt: clock, frame: frame) { waiter(seq, frame) }
            }
        }
    }

    // MARK: Resume

    public enum ResumePlan {
        /// Frames for (since, upTo], led by a `resumed` message on the first chunk. When not
        /// `complete`, more follow: the caller asks again from `upTo` once the client has drained.
        case replay(frames: [SharedBuffer], upTo: Int64, complete: Bool)
        /// The resume cannot be served: send a resync snapshot instead.
        case resync(reason: String)
    }

    /// Reads the journal after `since` for one subscriber. A replay larger than `maxBytes` comes
    /// in chunks (whole events only), so it never has to sit in the outbound queue all at once.
    public func resume(since: Int64, epoch clientEpoch: String?, filter: SubscriptionFilter, format: WireFormat,
                       continuing: Bool = false, maxBytes: Int = .max) -> ResumePlan {
        let last = lastSeq
        if !continuing {
            guard clientEpoch == epoch else { return .resync(reason: "epoch differs") }
            guard since >= 0, since <= last else { return .resync(reason: "since is beyond the journal") }
            guard last - since <= Int64(pipeline.options.maxResumeEvents) else { return .resync(reason: "too far behind") }
        }
        let encoder = pipeline.encoder
        let renderer = TextRenderer(encoder: encoder)
        func frame(_ message: SubscriberMessage) -> SharedBuffer {
            format == .json ? Frames.text(bytes: encoder.json(message)) : Frames.text(renderer.line(message))
        }
        var frames: [SharedBuffer] = []
        var bytes = 0
        if !continuing { frames.append(frame(.resumed(since: since, seq: last, epoch: epoch))) }
        var after = since
        while after < last {
            guard let records = try? journal.events(after: after, limit: 1_000), !records.isEmpty else {
                return .resync(reason: "journal read failed")
            }
            for record in records where record.seq <= last {
                guard let messages = messages(of: record) else {
                    return .resync(reason: "event \(record.seq) has messages this server cannot read")
                }
                for message in messages {
                    let route = message.route
                    guard filter.matches(channel: route.channel, account: route.account, instrument: route.instrument) else { continue }
                    let next = frame(message)
                    bytes += next.count
                    frames.append(next)
                }
                after = record.seq
                if bytes >= maxBytes && after < last { return .replay(frames: frames, upTo: after, complete: false) }
            }
        }
        return .replay(frames: frames, upTo: last, complete: true)
    }

    // MARK: Stored messages

    /// The messages a committed event produced, as its subscribers got them: written again from
    /// the stored deltas (rows since journal schema v4) or read back from their JSON (older
    /// rows). Nil when this server cannot read them.
    public func messages(of record: EventRecord) -> [SubscriberMessage]? {
        switch record.deltas {
        case .binary(let bytes):
            guard let deltas = try? DeltaCoding.decode(bytes) else { return nil }
            return deltas.map { SubscriberMessage($0, seq: record.seq) }
        case .json(let text):
            guard case .array(let items)? = try? JSONValue.parse(text) else { return nil }
            var messages: [SubscriberMessage] = []
            messages.reserveCapacity(items.count)
            for item in items {
                guard let message = SubscriberMessage(delta: item) else { return nil }
                messages.append(message)
            }
            return messages
        }
    }

    /// The JSON array of a committed event's messages, the bytes the live path published for it
    /// (the stream publisher's catch-up). Nil when this server cannot read them.
    public func messagesJSON(of record: EventRecord) -> [UInt8]? {
        switch record.deltas {
        case .json(let text):
            // Written by an older server as one array: kept as it was published.
            return Array(text.utf8)
        case .binary:
            guard let messages = messages(of: record) else { return nil }
            var array: [UInt8] = [UInt8(ascii: "[")]
            for (index, message) in messages.enumerated() {
                if index > 0 { array.append(UInt8(ascii: ",")) }
                array.append(contentsOf: pipeline.encoder.json(message))
            }
            array.append(UInt8(ascii: "]"))
            return array
        }
    }
}
