import Bytes
import Foundation
import JSON
import Journal
import Ledger
import Synchronization
import Testing
import Wire
@testable import Ingest

@Suite struct PipelineTests {
    @Test func workedExampleIsAcknowledgedWithGaplessSeqsAndExactTotals() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        let results = harness.submit(json: [WorkedExample.sod] + WorkedExample.fills + [WorkedExample.mark])
        #expect(results == (1...7).map { SubmitResult.ack(seq: Int64($0)) })
        let snapshot = harness.snapshot()
        #expect(snapshot["seq"] == .int(7))
        #expect(snapshot["desk"]?["total"] == .string("484.375"))
        #expect(snapshot["desk"]?["realized"] == .string("453.125"))
        #expect(snapshot["desk"]?["unrealized"] == .string("31.25"))
    }

    @Test func aDuplicateExecIdIsAnsweredWithTheOriginalSeqAndStoresNothing() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [WorkedExample.sod, WorkedExample.fills[0]])
        let again = harness.submit(json: [WorkedExample.fills[0]])
        #expect(again == [.duplicate(seq: 2)])
        #expect(harness.journal.lastSeq == 2)
        // Also within one batch: the second copy refers to the first one's seq.
        let batch = harness.submit(json: [WorkedExample.fills[1], WorkedExample.fills[1]])
        #expect(batch == [.ack(seq: 3), .duplicate(seq: 3)])
    }

    @Test func anAtomicBatchWithOneBadItemStoresNothingButTheAudit() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [WorkedExample.sod])
        let bad = #"{"type":"fill","execId":"X2","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-08.25"}"#
        let results = harness.submit(json: [WorkedExample.fills[0], bad], atomic: true)
        #expect(results.count == 2)
        guard case .rejected(let firstCode, _) = results[0], case .rejected(let secondCode, _) = results[1] else {
            Issue.record("expected both rejected, got \(results)")
            return
        }
        #expect(firstCode == "not_applied")
        #expect(secondCode == "price_off_grid")
        #expect(harness.journal.lastSeq == 1)
        #expect(harness.snapshot()["positions"]?.arrayCount == 1)
        let audit = try harness.journal.auditEntries(limit: 50)
        #expect(audit.contains { $0.action == "reject" && $0.detail.contains("price_off_grid") })
        // The same fill is still welcome afterwards: nothing of the failed request was kept.
        #expect(harness.submit(json: [WorkedExample.fills[0]]) == [.ack(seq: 2)])
    }

    @Test func aRejectedMessageOutsideABatchLeavesTheLedgerUnchanged() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [WorkedExample.sod, WorkedExample.fills[0]])
        let before = harness.snapshot()["positions"]!.serialized
        let results = harness.submit(json: [
            #"{"type":"bust","execId":"NOPE"}"#,
            #"{"type":"fill","execId":"Z1","account":"ACC1","instrument":"ZZZ","side":"buy","qty":1,"price":"1"}"#,
            "not json",
        ])
        #expect(results.map(\.code) == ["unknown_fill", "unknown_instrument", "malformed_json"])
        #expect(harness.snapshot()["positions"]!.serialized == before)
        #expect(harness.journal.lastSeq == 2)
    }

    @Test func everyCommitIsPublishedBeforeItsProducerHearsBack() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [WorkedExample.sod] + WorkedExample.fills)
        let order = harness.order.withLock { $0 }
        let replyIndex = try #require(order.firstIndex(of: "reply"))
        #expect(order[..<replyIndex] == (1...6).map { "publish:\($0)" }[...])
        let seqs = harness.published.withLock { $0.map(\.seq) }
        #expect(seqs == Array(1...6))
    }

    @Test func recoveryWithAndWithoutCheckpointsEqualsTheLiveState() throws {
        for checkpointEvery in [1_000_000, 7] {
            let harness = try PipelineHarness(checkpointEvery: checkpointEvery)
            var generator = MessageGenerator(seed: UInt64(checkpointEvery))
            for _ in 0..<20 { _ = harness.submit(json: generator.batch(size: 10)) }
            let live = harness.snapshot()
            #expect((live["positions"]?.arrayCount ?? 0) >= 3, "the generated stream must build real positions")
            #expect(harness.journal.lastSeq >= 150)
            harness.close()
            try harness.open(checkpointEvery: checkpointEvery)
            let recovered = harness.snapshot()
            #expect(recovered["positions"]!.serialized == live["positions"]!.serialized)
            #expect(recovered["accounts"]!.serialized == live["accounts"]!.serialized)
            #expect(recovered["seq"] == live["seq"])
            if checkpointEvery == 7 { #expect(try harness.journal.latestCheckpoint() != nil) }
            // Duplicates are still recognised after the restart.
            let first = try #require(try harness.journal.fills(account: nil, instrument: nil, since: nil, limit: 1).first)
            let replay = #"{"type":"fill","execId":"\#(first.execId)","account":"\#(first.account)","instrument":"\#(first.instrument)","side":"\#(first.side)","qty":\#(first.qty),"price":"\#(Price(units: first.priceUnits).decimalString)"}"#
            #expect(harness.submit(json: [replay]) == [.duplicate(seq: first.seq)])
            harness.close()
        }
    }

    @Test func aResumeReplaysExactlyWhatWasPublishedAfterTheGivenSeq() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        var generator = MessageGenerator(seed: 99)
        for _ in 0..<10 { _ = harness.submit(json: generator.batch(size: 5)) }
        let published = harness.published.withLock { $0 }
        let epoch = harness.pipeline.epoch
        for since in [Int64(0), 3, 17, harness.journal.lastSeq] {
            let plan = harness.read { $0.resume(since: since, epoch: epoch, filter: SubscriptionFilter(), format: .json) }
            guard case .replay(let frames, let upTo, let complete) = plan else {
                Issue.record("expected a replay from \(since)")
                continue
            }
            #expect(complete)
            #expect(upTo == harness.journal.lastSeq)
            let expected = published.filter { $0.seq > since }.flatMap { $0.messages.map(\.jsonFrame.bytes) }
            #expect(frames.dropFirst().map(\.bytes) == expected, "resume from \(since)")
        }
        // In chunks: whole events each, together exactly the one-piece replay.
        var chunks: [[UInt8]] = []
        var since: Int64 = 0
        var continuing = false
        while true {
            let from = since, more = continuing
            let plan = harness.read { $0.resume(since: from, epoch: epoch, filter: SubscriptionFilter(), format: .json, continuing: more, maxBytes: 2_000) }
            guard case .replay(let frames, let upTo, let complete) = plan else { Issue.record("chunk refused"); break }
            chunks += (more ? frames : Array(frames.dropFirst())).map(\.bytes)
            #expect(upTo > from)
            since = upTo
            continuing = true
            if complete { break }
        }
        #expect(since == harness.journal.lastSeq)
        #expect(chunks == published.flatMap { $0.messages.map(\.jsonFrame.bytes) })
        let wrongEpoch = harness.read { $0.resume(since: 1, epoch: "other", filter: SubscriptionFilter(), format: .json) }
        guard case .resync = wrongEpoch else { Issue.record("a wrong epoch must resync"); return }
        let ahead = harness.read { $0.resume(since: 10_000, epoch: epoch, filter: SubscriptionFilter(), format: .json) }
        guard case .resync = ahead else { Issue.record("since beyond the journal must resync"); return }
    }

    /// The snapshot is the writer's entries around the state a filter lets through, as valid JSON
    /// (hostile monitor text included), whatever the filter.
    @Test func theSnapshotIsValidJSONWithTheFilteredContentForAnyFilter() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        var generator = MessageGenerator(seed: 5)
        for _ in 0..<8 { _ = harness.submit(json: generator.batch(size: 10)) }
        let filters = [SubscriptionFilter(), SubscriptionFilter(allowedAccounts: ["ACC2"]),
                       SubscriptionFilter(accounts: ["ACC1"], instruments: ["ZNZ6"], channels: [.fills])]
        let monitors = [MonitorStatus(name: "replay", state: .degraded, lastError: "gone \"x\"", lastSuccess: 5)]
        for filter in filters {
            let (bytes, positions, fills) = harness.read { read in
                let content = read.snapshot(filter: filter)
                return (read.snapshotBytes(filter: filter, resync: true, monitors: monitors, now: 42),
                        content.positions.count, content.fills.map { $0.record.fill.execId })
            }
            let snapshot = try JSONValue.parse(String(decoding: bytes, as: UTF8.self))
            #expect(snapshot["type"] == .string("snapshot"))
            #expect(snapshot["resync"] == .bool(true))
            #expect(snapshot["positions"]?.arrayCount == positions)
            guard case .array(let listed)? = snapshot["fills"] else { Issue.record("no fills"); continue }
            #expect(listed.map { $0["execId"]?.stringValue ?? "" } == fills)
            #expect(snapshot["monitors"]?.serialized == #"[{"name":"replay","state":"degraded","lastError":"gone \"x\"","lastSuccess":"1970-01-01T00:00:00.000Z","stale":true}]"#)
            #expect((snapshot["desk"] == .null) == (filter.allowedAccounts != nil))
        }
    }

    @Test func aFilteredSnapshotShowsOnlyPermittedAccountsAndNoDeskForScopedViewers() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [
            #"{"type":"fill","execId":"A1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-16"}"#,
            #"{"type":"fill","execId":"B1","account":"ACC2","instrument":"ZBZ6","side":"sell","qty":2,"price":"115-18"}"#,
        ])
        let scoped = harness.snapshot(filter: SubscriptionFilter(allowedAccounts: ["ACC2"]))
        guard case .array(let positions)? = scoped["positions"], case .array(let fills)? = scoped["fills"] else {
            Issue.record("snapshot lacks positions or fills")
            return
        }
        #expect(positions.map { $0["account"] } == [.string("ACC2")])
        #expect(fills.map { $0["execId"] } == [.string("B1")])
        #expect(scoped["desk"] == .null)
    }
}

extension SubmitResult {
    var code: String {
        switch self {
        case .ack: return "ack"
        case .duplicate: return "duplicate"
        case .rejected(let code, _): return code
        }
    }
}

extension JSONValue {
    var arrayCount: Int? { if case .array(let items) = self { return items.count }; return nil }
}

/// Seeded producer messages on the tick grid: fills (with flips), marks, occasional busts.
struct MessageGenerator {
    var state: UInt64
    var next = 0
    var execIds: [String] = []

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func random(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }

    mutating func batch(size: Int) -> [String] {
        (0..<size).map { _ in message() }
    }

    mutating func message() -> String {
        let instruments = [("ZNZ6", 110, 64), ("ZBZ6", 115, 32), ("ZTZ6", 102, 256)]
        let (symbol, base, perPoint) = instruments[random(instruments.count)]
        let ticks = random(perPoint)
        let price = "\(base).\(String(format: "%08d", ticks * (100_000_000 / perPoint)))"
        switch random(10) {
        case 0:
            return #"{"type":"mark","instrument":"\#(symbol)","price":"\#(price)"}"#
        case 1 where !execIds.isEmpty:
            let victim = execIds.remove(at: random(execIds.count))
            return #"{"type":"bust","execId":"\#(victim)"}"#
        default:
            next += 1
            let execId = "G\(next)"
            execIds.append(execId)
            let side = random(2) == 0 ? "buy" : "sell"
            let account = ["ACC1", "ACC2"][random(2)]
            return #"{"type":"fill","execId":"\#(execId)","account":"\#(account)","instrument":"\#(symbol)","side":"\#(side)","qty":\#(1 + random(9)),"price":"\#(price)"}"#
        }
    }
}

@Suite struct BoundedReadTests {
    /// Viewer reads queue behind a bound: past it nothing is queued and the caller is told so.
    @Test func readsArePastTheBoundRefusedNotQueued() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        harness.pipeline.read { _ in started.signal(); release.wait() }   // holds the thread
        started.wait()
        let ran = Mutex(0)
        var accepted: [Bool] = []
        for _ in 0..<4 { accepted.append(harness.pipeline.read(ifQueueBelow: 3) { _ in ran.withLock { $0 += 1 } }) }
        #expect(accepted == [true, true, true, false])
        #expect(harness.pipeline.statistics.readsRefused.load(ordering: .relaxed) == 1)
        release.signal()
        let done = DispatchSemaphore(value: 0)
        harness.pipeline.read { _ in done.signal() }
        done.wait()
        #expect(ran.withLock { $0 } == 3)
    }
}

/// The pipeline driven by another thread's loop (the server's event loop under `normal`):
/// nothing runs until the driver drains, the driver is woken once per burst, and what must wait
/// for the pipeline does not deadlock when the waiting thread *is* the driver.
@Suite struct ExternalDriverTests {
    final class Counter: Sendable {
        private let count = Mutex(0)
        func increment() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    static func fill(_ execId: String) -> IngestPipeline.Item {
        .message(try! ProducerMessage.parse(json: #"{"type":"fill","execId":"\#(execId)","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-16"}"#))
    }

    @Test func queuedWorkWaitsForTheDriverWhichIsWokenOncePerBurst() throws {
        let wakes = Counter()
        let harness = try PipelineHarness(driver: .external(wake: { wakes.increment() }, isDriverThread: { true }))
        defer { harness.close() }
        let answers = Mutex<[[SubmitResult]]>([])
        for execId in ["E1", "E2", "E3"] {
            harness.pipeline.submit(items: [Self.fill(execId)], source: "test", atomic: false) { results in
                answers.withLock { $0.append(results) }
            }
        }
        #expect(wakes.value == 1)
        #expect(answers.withLock { $0.isEmpty } && harness.published.withLock { $0.isEmpty })

        harness.pipeline.drainQueued()
        #expect(answers.withLock { $0 } == [[.ack(seq: 1)], [.ack(seq: 2)], [.ack(seq: 3)]])
        #expect(harness.published.withLock { $0.map(\.seq) } == [1, 2, 3])
        #expect(harness.journal.lastSeq == 3)

        harness.pipeline.submit(items: [Self.fill("E4")], source: "test", atomic: false) { _ in }
        #expect(wakes.value == 2)
    }

    @Test func onTheDriverThreadReadsAndStopRunInsteadOfWaiting() throws {
        let harness = try PipelineHarness(driver: .external(wake: {}, isDriverThread: { true }))
        harness.pipeline.submit([], source: "monitor", cursor: (name: "tt.fills", value: "42")) { _ in }
        // Would wait forever for a drain that only this thread can do.
        #expect(harness.pipeline.cursor(named: "tt.fills") == "42")
        #expect(harness.pipeline.committedPositions().isEmpty)

        harness.pipeline.submit(items: [Self.fill("S1")], source: "test", atomic: false) { _ in }
        let stopped = Mutex(false)
        harness.pipeline.stop { stopped.withLock { $0 = true } }
        #expect(stopped.withLock { $0 }, "stop on the driver thread finishes before it returns")
        #expect(harness.journal.lastSeq == 1)
        harness.close()   // a second stop answers at once
    }
}

/// Snapshot frames are reused for a few commits and a short while, so a connect storm or a
/// client flooding `subscribe` while producers commit costs one encode, not one per request.
@Suite struct SnapshotReuseTests {
    static func frame(_ harness: PipelineHarness, format: WireFormat = .json,
                      filter: SubscriptionFilter = SubscriptionFilter()) -> (seq: Int64, bytes: [UInt8], thread: String) {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<(seq: Int64, bytes: [UInt8], thread: String)>((0, [], ""))
        harness.pipeline.read { context in
            context.snapshotFrame(filter: filter, format: format, resync: false, monitors: [], now: 0) { seq, frame in
                let thread = Self.threadIdentity()
                result.withLock { $0 = (seq, Array(frame.bytes), thread) }
                done.signal()
            }
        }
        done.wait()
        return result.withLock { $0 }
    }

    static func threadIdentity() -> String { "\(pthread_self())" }

    @Test func aFrameIsWrittenOffTheWriterAndRequestsForItWhileItIsWrittenShareIt() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [#"{"type":"fill","execId":"W0","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-16"}"#])
        let writer = harness.read { _ in Self.threadIdentity() }
        let miss = Self.frame(harness, filter: SubscriptionFilter(accounts: ["ACC1"]))
        #expect(miss.seq == 1 && miss.thread != writer, "written on the encoding queue, not the writer")
        let hit = Self.frame(harness, filter: SubscriptionFilter(accounts: ["ACC1"]))
        #expect(hit.bytes == miss.bytes && hit.thread == writer, "a cached frame is handed over by the writer at once")

        // Ten requests for a new filter in one drain: one encoding, ten answers, the same bytes.
        let answers = Mutex<[[UInt8]]>([])
        let done = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        ReadContext.encodingQueue.async { started.signal(); release.wait() }   // holds the queue
        started.wait()
        let before = harness.pipeline.snapshotCache.encodings.load(ordering: .relaxed)
        harness.pipeline.read { context in
            for _ in 0..<10 {
                context.snapshotFrame(filter: SubscriptionFilter(accounts: ["ACC2"]), format: .json, resync: false, monitors: [], now: 0) { _, frame in
                    answers.withLock { $0.append(Array(frame.bytes)) }
                    done.signal()
                }
            }
        }
        let queued = DispatchSemaphore(value: 0)
        harness.pipeline.read { _ in queued.signal() }   // after the ten requests were made
        queued.wait()
        release.signal()
        for _ in 0..<10 { done.wait() }
        let all = answers.withLock { $0 }
        #expect(all.count == 10 && all.allSatisfy { $0 == all[0] })
        #expect(harness.pipeline.snapshotCache.encodings.load(ordering: .relaxed) == before + 1, "the ten joined one encoding")
    }

    @Test func aYoungFrameIsReusedAtItsOwnSeqAndReplacedWhenTooOldOrTooFarBehind() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [#"{"type":"fill","execId":"R0","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-16"}"#])
        let built = Monotonic.now()
        let first = Self.frame(harness)
        #expect(first.seq == 1)
        _ = harness.submit(json: [#"{"type":"fill","execId":"R1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-16"}"#])
        let asked = Monotonic.now()
        let reused = Self.frame(harness)
        // The age is wall time: on a machine so loaded that a commit took longer, the frame is
        // (rightly) rebuilt, and that is what is checked instead.
        if asked.nanoseconds - built.nanoseconds < SnapshotCache.maxAgeNanos - 10_000_000 {
            #expect(reused.seq == 1 && reused.bytes == first.bytes, "one commit later, within the age: the same frame at its own seq")
        } else {
            #expect(reused.seq == 2, "past the age: rebuilt")
        }

        usleep(UInt32(SnapshotCache.maxAgeNanos / 1000) + 20_000)
        #expect(Self.frame(harness).seq == 2, "past the age: rebuilt")

        // Another format is built fresh, at the current seq (frames of one cache share one seq).
        _ = harness.submit(json: [#"{"type":"fill","execId":"R2","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-16"}"#])
        #expect(Self.frame(harness, format: .text).seq == 3)

        let burst = (0..<Int(SnapshotCache.maxLagEvents) + 1).map {
            #"{"type":"fill","execId":"L\#($0)","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-16"}"#
        }
        _ = harness.submit(json: burst)
        #expect(Self.frame(harness).seq == harness.journal.lastSeq, "too many events behind: rebuilt")
    }
}
