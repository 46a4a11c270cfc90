import Bytes
import WebSocketCore
import Wire

/// Fan-out of committed events to subscribers, on the loop thread.
///
/// Ordering argument: the ingest thread posts committed batches, snapshots and resume replays
/// into the loop's FIFO mailbox in commit order. A subscriber waiting for its snapshot (taken at
/// seq S) ignores every batch, all of which are ≤ S; once the snapshot lands it is live and
/// takes batches > S. `lastSeq` makes that a rule, not a timing accident: nothing at or below
/// what a subscriber already has is ever sent again.
///
/// A snapshot may also land *after* batches newer than it (a cached snapshot frame reused for a
/// few commits, so a connect storm or a client flooding `subscribe` costs one encode, not one
/// per request): the hub keeps the last published events and sends the ones after the
/// snapshot's seq right behind it. When they no longer reach back that far, the snapshot is
/// refused and the caller asks for a fresh one.
public final class Hub {
    public private(set) var subscribers: [UInt64: Subscriber] = [:]
    public private(set) var lastPublishedSeq: Int64 = 0
    public private(set) var messagesOut = 0
    /// Compresses frames for subscribers with permessage-deflate (shared by the loop).
    public let deflater: MessageDeflater?

    /// The most recently published events, oldest first, in seq order: `recent[recentStart...]`,
    /// `recentCapacity` of them once that many were published. The oldest is let go as each new
    /// one comes, so its messages are freed one event at a time: trimming hundreds of events at
    /// once freed thousands of messages in one turn (~1 ms on the loop every 512 events, which
    /// every subscriber saw). Let-go slots before `recentStart` hold no messages and are
    /// compacted away, a plain move of small values, once they are `recentCapacity` many.
    private var recent: [CommittedEvent] = []
    private var recentStart = 0
    public let recentCapacity: Int

    public init(deflater: MessageDeflater? = nil, recentCapacity: Int = 1024) {
        self.deflater = deflater
        self.recentCapacity = recentCapacity
    }

    /// Forgets the published history (an edge that reloaded a new state, maybe of another epoch
    /// whose seqs restart): snapshots from now on are at `seq` or later.
    public func resetHistory(lastSeq seq: Int64) {
        recent.removeAll()
        recentStart = 0
        lastPublishedSeq = seq
    }

    public func add(_ subscriber: Subscriber) {
        if let previous = subscribers.updateValue(subscriber, forKey: subscriber.id) { leaveGroup(previous) }
        joinGroup(subscriber)
    }

    public func remove(id: UInt64) {
        guard let subscriber = subscribers.removeValue(forKey: id) else { return }
        leaveGroup(subscriber)
    }

    /// A new filter (a `subscribe` message): the subscriber moves to that filter's group and waits
    /// for the snapshot its endpoint requests next.
    public func update(_ subscriber: Subscriber, filter: SubscriptionFilter) {
        leaveGroup(subscriber)
        subscriber.filter = filter
        joinGroup(subscriber)
    }

    /// Until a snapshot or a resume lands, live batches pass the subscriber by (they are in the
    /// state the snapshot is read from, or in the journal the resume reads).
    public func awaitSnapshot(_ subscriber: Subscriber) {
        subscriber.phase = .awaitingSnapshot
    }

    // MARK: Groups

    /// Subscribers with the same filter, format and compression share one encoded batch per
    /// publish (with permessage-deflate: compressed once, see `OutboundMessage`). A group
    /// lives while it has members: a desk whose viewers come and go with ever new filters does
    /// not accumulate groups.
    private struct GroupKey: Hashable {
        var filter: SubscriptionFilter
        var format: WireFormat
        var deflate: FrameDeflate?
        /// Hashed once per key: hashing a filter hashes each element of its sets with a hasher
        /// of its own, and a join or leave that hashed the key on every dictionary access cost
        /// ~20,000 instructions per connection.
        private let hash: Int

        init(_ subscriber: Subscriber) {
            filter = subscriber.filter
            format = subscriber.format
            deflate = subscriber.deflate
            var hasher = Hasher()
            hasher.combine(filter)
            hasher.combine(format)
            hasher.combine(deflate)
            hash = hasher.finalize()
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }

        static func == (a: GroupKey, b: GroupKey) -> Bool {
            a.hash == b.hash && a.format == b.format && a.deflate == b.deflate && a.filter == b.filter
        }
    }
    private var groups: [GroupKey: (id: Int, members: Int)] = [:]
    private var nextGroupID = 0

    /// Groups with at least one member.
    public var groupCount: Int { groups.count }

    private func joinGroup(_ subscriber: Subscriber) {
        let key = GroupKey(subscriber)
        if let index = groups.index(forKey: key) {
            groups.values[index].members += 1
            subscriber.groupID = groups.values[index].id
        } else {
            groups[key] = (nextGroupID, 1)
            subscriber.groupID = nextGroupID
            nextGroupID += 1
        }
    }

    private func leaveGroup(_ subscriber: Subscriber) {
        guard let index = groups.index(forKey: GroupKey(subscriber)) else { return }
        if groups.values[index].members <= 1 { groups.remove(at: index) } else { groups.values[index].members -= 1 }
    }

    /// Fan-out of one committed batch. Subscribers with the same filter and format get the same
    /// buffer: the batch's matching frames are concatenated once per group, then queued on each
    /// member with one retain — per subscriber the cost is one queue append per batch, however
    /// many messages the batch holds.
    public func publish(_ events: [CommittedEvent]) {
        guard let first = events.first, let last = events.last else { return }
        for event in events where event.seq > lastPublishedSeq { recent.append(event) }
        while recent.count - recentStart > recentCapacity {
            recent[recentStart] = CommittedEvent(seq: recent[recentStart].seq, messages: [])
            recentStart += 1
        }
        if recentStart >= max(recentCapacity, 1) {
            recent.removeFirst(recentStart)
            recentStart = 0
        }
        lastPublishedSeq = max(lastPublishedSeq, last.seq)
        var batches: [Int: (buffer: SharedBuffer, messages: Int)?] = [:]
        let now = Monotonic.now()
        for subscriber in subscribers.values where subscriber.phase == .live && subscriber.lastSeq < last.seq {
            if subscriber.lastSeq >= first.seq {
                // Its snapshot landed inside this batch: send only what follows it.
                deliver(events, to: subscriber)
                continue
            }
            let id = subscriber.groupID
            let batch: (buffer: SharedBuffer, messages: Int)?
            if let cached = batches[id] {
                batch = cached
            } else {
                batch = encodeBatch(events, filter: subscriber.filter, format: subscriber.format, deflate: subscriber.deflate)
                batches[id] = batch
            }
            subscriber.lastSeq = last.seq
            if let batch {
                subscriber.sink.send(batch.buffer)
                messagesOut += batch.messages
                subscriber.lastSendTime = now
            }
        }
    }

    private func encodeBatch(_ events: [CommittedEvent], filter: SubscriptionFilter, format: WireFormat,
                             deflate: FrameDeflate?) -> (buffer: SharedBuffer, messages: Int)? {
        let everything = filter.passesEverything
        var frames: [SharedBuffer] = []
        for event in events {
            for message in event.messages
            where everything || filter.matches(channel: message.channel, account: message.account, instrument: message.instrument) {
                frames.append(message.frame(for: format, deflate: deflate, using: deflater))
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
                subscriber.sink.send(message.frame(for: format, deflate: subscriber.deflate, using: deflater))
                sent += 1
            }
            subscriber.lastSeq = event.seq
        }
        if sent > 0 {
            messagesOut += sent
            subscriber.lastSendTime = Monotonic.now()
        }
    }

    /// The snapshot taken at `seq` for this subscriber: sent, followed by any events published
    /// after `seq`, then the subscriber goes live. False (nothing sent, still waiting) when the
    /// kept history no longer reaches back to `seq`: the caller must take a newer snapshot.
    @discardableResult
    public func deliverSnapshot(to id: UInt64, seq: Int64, frame: SharedBuffer) -> Bool {
        guard let subscriber = subscribers[id] else { return true }
        var missed: ArraySlice<CommittedEvent> = []
        if seq < lastPublishedSeq {
            guard recentStart < recent.count, recent[recentStart].seq <= seq + 1 else { return false }
            missed = recent[recentIndex(after: seq)...]
        }
        subscriber.sink.send(prepared(frame, for: subscriber))
        subscriber.lastSeq = seq
        subscriber.phase = .live
        subscriber.lastSendTime = Monotonic.now()
        messagesOut += 1
        if !missed.isEmpty { deliver(Array(missed), to: subscriber) }
        return true
    }

    /// Index of the first kept event with a seq above `seq` (binary search: seqs ascend).
    private func recentIndex(after seq: Int64) -> Int {
        var low = recentStart, high = recent.count
        while low < high {
            let middle = (low + high) / 2
            if recent[middle].seq <= seq { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Journal replay for a resume: `frames` cover (lastSeq, upTo]. The subscriber goes live
    /// with the `complete` chunk; until then live batches pass it by (they are in the journal and
    /// come with the next chunk).
    public func deliverResume(to id: UInt64, frames: [SharedBuffer], upTo seq: Int64, complete: Bool) {
        guard let subscriber = subscribers[id] else { return }
        for frame in frames { subscriber.sink.send(prepared(frame, for: subscriber)) }
        subscriber.lastSeq = max(subscriber.lastSeq, seq)
        if complete { subscriber.phase = .live }
        subscriber.lastSendTime = Monotonic.now()
        messagesOut += frames.count
    }

    /// Messages with no seq (monitor status) go to every live subscriber that wants the channel.
    public func broadcast(_ message: OutboundMessage) {
        for subscriber in subscribers.values where subscriber.phase == .live {
            if subscriber.filter.matches(channel: message.channel, account: message.account, instrument: message.instrument) {
                subscriber.sink.send(message.frame(for: subscriber.format, deflate: subscriber.deflate, using: deflater))
                messagesOut += 1
            }
        }
    }

    /// A frame built for this subscriber alone (snapshot, resume chunk), compressed if it asked.
    private func prepared(_ frame: SharedBuffer, for subscriber: Subscriber) -> SharedBuffer {
        guard let deflate = subscriber.deflate, let deflater else { return frame }
        return deflate.apply(to: frame, using: deflater)
    }
}
