import Reactor

/// One `/ws` client as the hub sees it. Loop thread only.
public final class Subscriber {
    public enum Phase: Sendable { case awaitingSnapshot, live }

    public let id: UInt64
    public let connection: Connection
    public var format: WireFormat { didSet { groupID = nil } }
    public var filter: SubscriptionFilter { didSet { groupID = nil } }
    /// Subscribers with the same filter and format share one encoded batch (see `Hub.publish`).
    var groupID: Int?
    public var phase: Phase = .awaitingSnapshot
    /// The highest seq this subscriber has been given (by snapshot, resume or delta).
    public var lastSeq: Int64 = 0
    public var lastSendTime = Monotonic.now()

    public init(connection: Connection, format: WireFormat, filter: SubscriptionFilter) {
        self.id = connection.id
        self.connection = connection
        self.format = format
        self.filter = filter
    }
}

/// Fan-out of committed events to subscribers, on the loop thread.
///
/// Ordering argument: the ingest thread posts committed batches, snapshots and resume replays
/// into the loop's FIFO mailbox in commit order. A subscriber waiting for its snapshot (taken at
/// seq S) ignores every batch, all of which are ≤ S; once the snapshot lands it is live and
/// takes batches > S. `lastSeq` makes that a rule, not a timing accident: nothing at or below
/// what a subscriber already has is ever sent again.
public final class Hub {
    public private(set) var subscribers: [UInt64: Subscriber] = [:]
    public private(set) var lastPublishedSeq: Int64 = 0
    public private(set) var messagesOut = 0

    public init() {}

    public func add(_ subscriber: Subscriber) { subscribers[subscriber.id] = subscriber }

    public func remove(id: UInt64) { subscribers.removeValue(forKey: id) }

    /// Distinct (filter, format) pairs seen so far → a small group id.
    private var groupIDs: [GroupKey: Int] = [:]
    private struct GroupKey: Hashable {
        var filter: SubscriptionFilter
        var format: WireFormat
    }

    private func groupID(of subscriber: Subscriber) -> Int {
        if let id = subscriber.groupID { return id }
        let key = GroupKey(filter: subscriber.filter, format: subscriber.format)
        let id = groupIDs[key] ?? groupIDs.count
        groupIDs[key] = id
        subscriber.groupID = id
        return id
    }

    /// Fan-out of one committed batch. Subscribers with the same filter and format get the same
    /// buffer: the batch's matching frames are concatenated once per group, then queued on each
    /// member with one retain — per subscriber the cost is one queue append per batch, however
    /// many messages the batch holds.
    public func publish(_ events: [CommittedEvent]) {
        guard let first = events.first, let last = events.last else { return }
        lastPublishedSeq = max(lastPublishedSeq, last.seq)
        var batches: [Int: (buffer: SharedBuffer, messages: Int)?] = [:]
        let now = Monotonic.now()
        for subscriber in subscribers.values where subscriber.phase == .live && subscriber.lastSeq < last.seq {
            if subscriber.lastSeq >= first.seq {
                // Its snapshot landed inside this batch: send only what follows it.
                deliver(events, to: subscriber)
                continue
            }
            let id = groupID(of: subscriber)
            let batch: (buffer: SharedBuffer, messages: Int)?
            if let cached = batches[id] {
                batch = cached
            } else {
                batch = encodeBatch(events, filter: subscriber.filter, format: subscriber.format)
                batches[id] = batch
            }
            subscriber.lastSeq = last.seq
            if let batch {
                subscriber.connection.send(batch.buffer)
                messagesOut += batch.messages
                subscriber.lastSendTime = now
            }
        }
    }

    private func encodeBatch(_ events: [CommittedEvent], filter: SubscriptionFilter, format: WireFormat) -> (buffer: SharedBuffer, messages: Int)? {
        let everything = filter.passesEverything
        var frames: [SharedBuffer] = []
        for event in events {
            for message in event.messages
            where everything || filter.matches(channel: message.channel, account: message.account, instrument: message.instrument) {
                frames.append(message.frame(for: format))
            }
        }
        if frames.isEmpty { return nil }
        return (frames.count == 1 ? frames[0] : SharedBuffer(concatenating: frames), frames.count)
    }

    private func deliver(_ events: [CommittedEvent], to subscriber: Subscriber) {
        let everything = subscriber.filter.passesEverything
        let format = subscriber.format
        var sent = 0
        for event in events where event.seq > subscriber.lastSeq {
            for message in event.messages
            where everything || subscriber.filter.matches(channel: message.channel, account: message.account, instrument: message.instrument) {
                subscriber.connection.send(message.frame(for: format))
                sent += 1
            }
            subscriber.lastSeq = event.seq
        }
        if sent > 0 {
            messagesOut += sent
            subscriber.lastSendTime = Monotonic.now()
        }
    }

    /// The snapshot taken at `seq` for this subscriber: sent, then the subscriber goes live.
    public func deliverSnapshot(to id: UInt64, seq: Int64, frame: SharedBuffer) {
        guard let subscriber = subscribers[id] else { return }
        subscriber.connection.send(frame)
        subscriber.lastSeq = seq
        subscriber.phase = .live
        subscriber.lastSendTime = Monotonic.now()
        messagesOut += 1
    }

    /// Journal replay for a resume: `frames` cover (lastSeq, upTo]. The subscriber goes live
    /// with the `complete` chunk; until then live batches pass it by (they are in the journal and
    /// come with the next chunk).
    public func deliverResume(to id: UInt64, frames: [SharedBuffer], upTo seq: Int64, complete: Bool) {
        guard let subscriber = subscribers[id] else { return }
        for frame in frames { subscriber.connection.send(frame) }
        subscriber.lastSeq = max(subscriber.lastSeq, seq)
        if complete { subscriber.phase = .live }
        subscriber.lastSendTime = Monotonic.now()
        messagesOut += frames.count
    }

    /// Messages with no seq (monitor status) go to every live subscriber that wants the channel.
    public func broadcast(_ message: OutboundMessage) {
        for subscriber in subscribers.values where subscriber.phase == .live {
            if subscriber.filter.matches(channel: message.channel, account: message.account, instrument: message.instrument) {
                subscriber.connection.send(message.frame(for: subscriber.format))
                messagesOut += 1
            }
        }
    }
}
