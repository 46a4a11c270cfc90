import Bytes
import Testing
import Wire
@testable import Hub

/// The ordering rules the product rests on, with a recording sink instead of sockets: a snapshot
/// at seq S is followed by exactly S+1, S+2, …; a resume covers (since, upTo] and then goes live;
/// nothing at or below what a subscriber has is ever sent again.
@Suite struct HubTests {
    /// Every way to cut events 1…6 into batches, every snapshot seq S (on a batch boundary or
    /// inside a batch), and every point at which the snapshot can land without a later event
    /// having been published before it (the mailbox is FIFO in commit order).
    @Test func snapshotThenExactlyTheFollowingDeltasAtEveryInterleaving() {
        let last: Int64 = 6
        var cases = 0
        for mask in 0..<(1 << (last - 1)) {
            let cuts = Set((1..<last).filter { mask & (1 << ($0 - 1)) != 0 })
            let batches = HubFixtures.batches(1...last, endingAt: cuts)
            for snapshotSeq in 0...last {
                // The snapshot must land before the batch holding snapshotSeq + 1.
                let latest = batches.firstIndex { $0.contains { $0.seq == snapshotSeq + 1 } } ?? batches.count
                for landing in 0...latest {
                    let hub = Hub(), sink = RecordingSink()
                    hub.add(HubFixtures.subscriber(1, sink: sink))
                    for (index, batch) in batches.enumerated() {
                        if index == landing { hub.deliverSnapshot(to: 1, seq: snapshotSeq, frame: HubFixtures.snapshotFrame(seq: snapshotSeq)) }
                        hub.publish(batch)
                    }
                    if landing == batches.count { hub.deliverSnapshot(to: 1, seq: snapshotSeq, frame: HubFixtures.snapshotFrame(seq: snapshotSeq)) }
                    let expected = [snapshotSeq] + Array((snapshotSeq + 1)...max(snapshotSeq + 1, last)).filter { $0 <= last }
                    #expect(sink.seqs == expected, "cuts \(cuts.sorted()) snapshot \(snapshotSeq) landing \(landing)")
                    #expect(sink.messages.first?.contains("snapshot") == true)
                    cases += 1
                }
            }
        }
        #expect(cases > 500)
    }

    /// A snapshot may land after batches newer than it (a reused snapshot frame): at every
    /// landing point, for every snapshot seq and every way to cut the batches, the subscriber
    /// still gets exactly the snapshot and then every later event once, in order.
    @Test func aSnapshotLandingAfterNewerBatchesIsFollowedByWhatItMissed() {
        let last: Int64 = 6
        for mask in 0..<(1 << (last - 1)) {
            let cuts = Set((1..<last).filter { mask & (1 << ($0 - 1)) != 0 })
            let batches = HubFixtures.batches(1...last, endingAt: cuts)
            for snapshotSeq in 0...last {
                for landing in 0...batches.count {
                    let hub = Hub(), sink = RecordingSink()
                    hub.add(HubFixtures.subscriber(1, sink: sink))
                    var delivered = true
                    for (index, batch) in batches.enumerated() {
                        if index == landing { delivered = hub.deliverSnapshot(to: 1, seq: snapshotSeq, frame: HubFixtures.snapshotFrame(seq: snapshotSeq)) }
                        hub.publish(batch)
                    }
                    if landing == batches.count { delivered = hub.deliverSnapshot(to: 1, seq: snapshotSeq, frame: HubFixtures.snapshotFrame(seq: snapshotSeq)) }
                    #expect(delivered)
                    #expect(sink.seqs == [snapshotSeq] + Array(snapshotSeq..<last).map { $0 + 1 },
                            "cuts \(cuts.sorted()) snapshot \(snapshotSeq) landing \(landing)")
                }
            }
        }
    }

    @Test func aSnapshotOlderThanTheKeptHistoryIsRefusedAndNothingIsSent() {
        let hub = Hub(recentCapacity: 4), sink = RecordingSink()
        hub.add(HubFixtures.subscriber(1, sink: sink))
        for seq: Int64 in 1...10 { hub.publish([HubFixtures.event(seq)]) }
        #expect(hub.deliverSnapshot(to: 1, seq: 2, frame: HubFixtures.snapshotFrame(seq: 2)) == false)
        #expect(sink.buffers.isEmpty)
        hub.publish([HubFixtures.event(11)])
        #expect(sink.buffers.isEmpty, "still waiting for a snapshot")
        #expect(hub.deliverSnapshot(to: 1, seq: 9, frame: HubFixtures.snapshotFrame(seq: 9)))
        #expect(sink.seqs == [9, 10, 11])
    }

    /// The history lets its oldest event go as each new one comes: messages are freed one event
    /// at a time, never hundreds in one turn of the loop.
    @Test func theKeptHistoryFreesOneEventPerEventPublished() {
        let hub = Hub(recentCapacity: 4)
        var released: [Int64: WeakMessage] = [:]
        for seq: Int64 in 1...20 {
            let event = HubFixtures.event(seq)
            released[seq] = WeakMessage(event.messages[0])
            hub.publish([event])
            let alive = (1...seq).filter { released[$0]?.message != nil }
            #expect(alive == Array(max(1, seq - 3)...seq), "after publishing \(seq)")
        }
        // Snapshots inside the kept history still get what followed them.
        let sink = RecordingSink()
        hub.add(HubFixtures.subscriber(1, sink: sink))
        #expect(hub.deliverSnapshot(to: 1, seq: 15, frame: HubFixtures.snapshotFrame(seq: 15)) == false)
        #expect(hub.deliverSnapshot(to: 1, seq: 16, frame: HubFixtures.snapshotFrame(seq: 16)))
        #expect(sink.seqs == [16, 17, 18, 19, 20])
    }

    private final class WeakMessage {
        weak var message: OutboundMessage?
        init(_ message: OutboundMessage) { self.message = message }
    }

    @Test func afterAHistoryResetASnapshotIsNotFollowedByEventsOfBefore() {
        let hub = Hub(), sink = RecordingSink()
        hub.add(HubFixtures.subscriber(1, sink: sink))
        for seq: Int64 in 1...8 { hub.publish([HubFixtures.event(seq)]) }
        hub.resetHistory(lastSeq: 3)   // an edge reloaded a new epoch, at seq 3
        #expect(hub.deliverSnapshot(to: 1, seq: 3, frame: HubFixtures.snapshotFrame(seq: 3)))
        hub.publish([HubFixtures.event(4)])
        #expect(sink.seqs == [3, 4])
    }

    @Test func batchesBeforeTheSnapshotArePassedBy() {
        let hub = Hub(), sink = RecordingSink()
        hub.add(HubFixtures.subscriber(1, sink: sink))
        hub.publish([HubFixtures.event(1), HubFixtures.event(2)])
        #expect(sink.buffers.isEmpty)
        hub.deliverSnapshot(to: 1, seq: 2, frame: HubFixtures.snapshotFrame(seq: 2))
        hub.publish([HubFixtures.event(3)])
        #expect(sink.seqs == [2, 3])
    }

    @Test func aBatchPublishedTwiceIsDeliveredOnce() {
        let hub = Hub(), sink = RecordingSink()
        hub.add(HubFixtures.subscriber(1, sink: sink))
        hub.deliverSnapshot(to: 1, seq: 0, frame: HubFixtures.snapshotFrame(seq: 0))
        let batch = [HubFixtures.event(1), HubFixtures.event(2)]
        hub.publish(batch)
        hub.publish(batch)
        hub.publish([HubFixtures.event(2), HubFixtures.event(3)])
        #expect(sink.seqs == [0, 1, 2, 3])
    }

    // MARK: Resume

    static func replayFrames(_ seqs: ClosedRange<Int64>) -> [SharedBuffer] {
        seqs.map { HubFixtures.message(seq: $0).jsonFrame }
    }

    @Test func completeResumeThenLive() {
        let hub = Hub(), sink = RecordingSink()
        let subscriber = HubFixtures.subscriber(1, sink: sink)
        hub.add(subscriber)
        // Committed while the journal was being read: in the replay, so passed by live.
        hub.publish([HubFixtures.event(5), HubFixtures.event(6)])
        hub.deliverResume(to: 1, frames: Self.replayFrames(4...6), upTo: 6, complete: true)
        hub.publish([HubFixtures.event(6), HubFixtures.event(7)])
        hub.publish([HubFixtures.event(8)])
        #expect(sink.seqs == [4, 5, 6, 7, 8])
        #expect(subscriber.phase == .live)
    }

    @Test func chunkedResumeNeverGapsOrRepeats() {
        let hub = Hub(), sink = RecordingSink()
        let subscriber = HubFixtures.subscriber(1, sink: sink)
        hub.add(subscriber)
        hub.deliverResume(to: 1, frames: Self.replayFrames(11...20), upTo: 20, complete: false)
        #expect(subscriber.phase == .awaitingSnapshot)
        // Live batches while the replay is in chunks: they are in the journal, so the next chunk brings them.
        hub.publish([HubFixtures.event(31), HubFixtures.event(32)])
        hub.deliverResume(to: 1, frames: Self.replayFrames(21...30), upTo: 30, complete: false)
        hub.publish([HubFixtures.event(33)])
        hub.deliverResume(to: 1, frames: Self.replayFrames(31...33), upTo: 33, complete: true)
        hub.publish([HubFixtures.event(33), HubFixtures.event(34)])
        #expect(sink.seqs == Array(11...34))
    }

    // MARK: Filters and groups

    @Test func subscribersWithTheSameFilterShareOneBuffer() {
        let hub = Hub()
        let a = RecordingSink(), b = RecordingSink(), scoped = RecordingSink()
        hub.add(HubFixtures.subscriber(1, sink: a))
        hub.add(HubFixtures.subscriber(2, sink: b))
        hub.add(HubFixtures.subscriber(3, sink: scoped, filter: SubscriptionFilter(allowedAccounts: ["ACC2"])))
        #expect(hub.groupCount == 2)
        for id: UInt64 in 1...3 { hub.deliverSnapshot(to: id, seq: 0, frame: HubFixtures.snapshotFrame(seq: 0)) }
        hub.publish([HubFixtures.event(1, accounts: ["ACC1", "ACC2"]), HubFixtures.event(2, accounts: ["ACC1"])])
        #expect(a.buffers.count == 2 && b.buffers.count == 2)
        #expect(a.buffers[1] === b.buffers[1])
        #expect(a.seqs == [0, 1, 1, 2])
        #expect(scoped.seqs == [0, 1])
        #expect(scoped.messages.last?.contains("ACC2") == true)
        #expect(hub.messagesOut == 3 + 3 + 3 + 1)
    }

    @Test func groupsAreEvictedWhenTheirLastMemberLeaves() {
        let hub = Hub()
        for id: UInt64 in 1...50 {
            hub.add(HubFixtures.subscriber(id, sink: RecordingSink(), filter: SubscriptionFilter(accounts: ["A\(id)"])))
        }
        #expect(hub.groupCount == 50)
        let moved = hub.subscribers[7]!
        hub.update(moved, filter: SubscriptionFilter(accounts: ["A8"]))
        #expect(hub.groupCount == 49)
        for id: UInt64 in 1...50 { hub.remove(id: id) }
        #expect(hub.groupCount == 0)
        #expect(hub.subscribers.isEmpty)
    }

    @Test func aNewFilterTakesEffectWithItsSnapshot() {
        let hub = Hub(), sink = RecordingSink()
        let subscriber = HubFixtures.subscriber(1, sink: sink)
        hub.add(subscriber)
        hub.deliverSnapshot(to: 1, seq: 0, frame: HubFixtures.snapshotFrame(seq: 0))
        hub.publish([HubFixtures.event(1, accounts: ["ACC1"])])
        hub.update(subscriber, filter: SubscriptionFilter(accounts: ["ACC2"]))
        hub.awaitSnapshot(subscriber)
        hub.publish([HubFixtures.event(2, accounts: ["ACC1", "ACC2"])])
        hub.deliverSnapshot(to: 1, seq: 2, frame: HubFixtures.snapshotFrame(seq: 2))
        hub.publish([HubFixtures.event(3, accounts: ["ACC1", "ACC2"])])
        #expect(sink.seqs == [0, 1, 2, 3])
        #expect(sink.messages.last?.contains("ACC2") == true)
    }

    @Test func textSubscribersGetTheTextLines() {
        let hub = Hub(), json = RecordingSink(), text = RecordingSink()
        hub.add(HubFixtures.subscriber(1, sink: json))
        hub.add(HubFixtures.subscriber(2, sink: text, format: .text))
        for id: UInt64 in 1...2 { hub.deliverSnapshot(to: id, seq: 0, frame: HubFixtures.snapshotFrame(seq: 0)) }
        hub.publish([HubFixtures.event(1)])
        #expect(json.messages.last == #"{"type":"fill","seq":1,"account":"ACC1","instrument":"ZNZ6"}"#)
        #expect(text.messages.last == "#1 fills")
    }

    // MARK: Leaving, status

    @Test func aRemovedSubscriberGetsNothingMoreAndOthersGoOn() {
        let hub = Hub(), cut = RecordingSink(), other = RecordingSink()
        hub.add(HubFixtures.subscriber(1, sink: cut))
        hub.add(HubFixtures.subscriber(2, sink: other))
        for id: UInt64 in 1...2 { hub.deliverSnapshot(to: id, seq: 0, frame: HubFixtures.snapshotFrame(seq: 0)) }
        hub.publish([HubFixtures.event(1)])
        hub.remove(id: 1)   // the server cut it (slow consumer) or it left
        hub.publish([HubFixtures.event(2)])
        hub.deliverSnapshot(to: 1, seq: 2, frame: HubFixtures.snapshotFrame(seq: 2))
        #expect(cut.seqs == [0, 1])
        #expect(other.seqs == [0, 1, 2])
    }

    @Test func statusGoesToLiveSubscribersOfTheStatusChannelOnly() {
        let hub = Hub(), wants = RecordingSink(), fillsOnly = RecordingSink(), waiting = RecordingSink()
        hub.add(HubFixtures.subscriber(1, sink: wants))
        hub.add(HubFixtures.subscriber(2, sink: fillsOnly, filter: SubscriptionFilter(channels: [.fills])))
        hub.add(HubFixtures.subscriber(3, sink: waiting))
        for id: UInt64 in 1...2 { hub.deliverSnapshot(to: id, seq: 0, frame: HubFixtures.snapshotFrame(seq: 0)) }
        hub.broadcast(HubFixtures.message(seq: 0, channel: .status, account: nil, instrument: nil))
        #expect(wants.messages.count == 2)
        #expect(fillsOnly.messages.count == 1)
        #expect(waiting.messages.isEmpty)
    }
}
