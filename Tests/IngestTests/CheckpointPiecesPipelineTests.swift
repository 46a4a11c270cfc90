import Foundation
import Journal
import Ledger
import Testing
@testable import Ingest

/// The writer stores a ledger checkpoint a piece per commit, and a restart from it equals the
/// live state; a failed commit in the middle only delays the checkpoint.
@Suite struct CheckpointPiecesPipelineTests {
    /// Submits batches until the journal holds a checkpoint (its encoding runs on another thread).
    private func submitUntilCheckpointed(_ harness: PipelineHarness, generator: inout MessageGenerator) throws {
        for _ in 0..<400 {
            _ = harness.submit(json: generator.batch(size: 5))
            if try harness.journal.latestCheckpoint() != nil { return }
        }
        Issue.record("no checkpoint was stored after 400 batches")
    }

    /// Submits batches until the journal's newest checkpoint is a newer one than `current`;
    /// returns it and the fill-log segments stored with it.
    private func submitUntilCheckpointAfter(_ current: Checkpoint, _ harness: PipelineHarness,
                                            generator: inout MessageGenerator) throws -> (Checkpoint, [CheckpointPiece.LogSegment]) {
        var next = current
        for _ in 0..<400 where next.seq == current.seq {
            _ = harness.submit(json: generator.batch(size: 5))
            next = try #require(try harness.journal.latestCheckpoint())
        }
        let log = harness.store.piecesPerAppend.withLock { $0.flatMap { $0 } }.filter { $0.seq == next.seq }.compactMap(\.logSegment)
        return (next, log)
    }

    @Test func aCheckpointIsStoredOnePiecePerCommitAndARestartFromItEqualsTheLiveState() throws {
        let harness = try PipelineHarness(checkpointEvery: 20, checkpointPieceBytes: 64)
        var generator = MessageGenerator(seed: 5)
        try submitUntilCheckpointed(harness, generator: &generator)
        let live = harness.snapshot()
        let appends = harness.store.piecesPerAppend.withLock { $0 }
        #expect(appends.allSatisfy { $0.count <= 1 }, "one piece per commit")
        let pieces = appends.flatMap { $0 }
        #expect(pieces.allSatisfy { $0.bytes.count <= 64 })
        let checkpoint = try #require(try harness.journal.latestCheckpoint())
        #expect(checkpoint.state.count > 3 * 64, "the ledger is large enough to need several pieces")
        // The fill log in segments that continue each other, then the checkpoint's own pieces.
        let mine = pieces.filter { $0.seq == checkpoint.seq }
        let log = mine.prefix { $0.logSegment != nil }.map { $0.logSegment! }
        #expect(log.count > 1 && log.first?.first == 0)
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.first + $0.count == $1.first })
        #expect(log.last.map { $0.first + $0.count } == checkpoint.fillCount)
        let own = mine.dropFirst(log.count)
        #expect(own.allSatisfy { $0.logSegment == nil } && own.map(\.index) == Array(0..<(own.first?.count ?? 0)))
        harness.close()

        try harness.open(checkpointEvery: 20)
        let recovered = harness.snapshot()
        #expect(recovered["positions"]!.serialized == live["positions"]!.serialized)
        #expect(recovered["accounts"]!.serialized == live["accounts"]!.serialized)
        #expect(recovered["seq"] == live["seq"])
        harness.close()
    }

    @Test func aFailedCommitInTheMiddleOfACheckpointStoresItsPieceAgainLater() throws {
        let harness = try PipelineHarness(checkpointEvery: 20, checkpointPieceBytes: 64)
        var generator = MessageGenerator(seed: 8)
        // Until the first piece of a checkpoint is committed.
        for _ in 0..<400 where harness.store.piecesPerAppend.withLock({ $0.flatMap { $0 }.isEmpty }) {
            _ = harness.submit(json: generator.batch(size: 5))
        }
        let first = try #require(harness.store.piecesPerAppend.withLock { $0.flatMap { $0 }.first })
        #expect(first.logSegment?.first == 0, "the first checkpoint starts with the fill log")
        harness.store.failNextAppends(1)
        let failed = harness.submit(json: generator.batch(size: 5))
        #expect(failed.allSatisfy { if case .rejected(let code, _) = $0 { code == "storage_error" } else { false } })
        let failedPiece = try #require(harness.store.piecesPerAppend.withLock { $0.last }?.first)
        #expect(failedPiece != first && failedPiece.seq == first.seq)
        try submitUntilCheckpointed(harness, generator: &generator)
        let stored = harness.store.piecesPerAppend.withLock { $0.flatMap { $0 } }.filter { $0.seq == first.seq }
        // The failed commit's piece twice in a row (then again), every other piece once, in order:
        // the log from fill 0 without a gap, then the checkpoint's own pieces.
        #expect(stored.filter { $0 == failedPiece }.count == 2)
        let failedAt = try #require(stored.firstIndex(of: failedPiece))
        #expect(stored[failedAt + 1] == failedPiece)
        var once = stored
        once.remove(at: failedAt)
        let log = once.prefix { $0.logSegment != nil }.map { $0.logSegment! }
        #expect(log.first?.first == 0 && zip(log, log.dropFirst()).allSatisfy { $0.first + $0.count == $1.first })
        let own = once.dropFirst(log.count)
        #expect(own.allSatisfy { $0.logSegment == nil } && own.map(\.index) == Array(0..<(own.first?.count ?? 0)))
        #expect(try harness.journal.latestCheckpoint()?.seq == first.seq)
        let live = harness.snapshot()
        harness.close()
        try harness.open(checkpointEvery: 20)
        #expect(harness.snapshot()["positions"]!.serialized == live["positions"]!.serialized)
        harness.close()
    }

    /// Each checkpoint after the first stores only the fills since the one before; a segment left
    /// by a checkpoint that never completed (a crash) is not read, and the next run rewrites the
    /// log from where the last complete checkpoint ended.
    @Test func laterCheckpointsStoreOnlyNewFillsAndALeftoverSegmentIsRewritten() throws {
        let harness = try PipelineHarness(checkpointEvery: 20, checkpointPieceBytes: 256)
        var generator = MessageGenerator(seed: 11)
        try submitUntilCheckpointed(harness, generator: &generator)
        let first = try #require(try harness.journal.latestCheckpoint())
        let (second, log) = try submitUntilCheckpointAfter(first, harness, generator: &generator)
        let firstFills = try #require(first.fillCount), secondFills = try #require(second.fillCount)
        #expect(secondFills > firstFills)
        #expect(log.first?.first == firstFills, "the second checkpoint starts where the first ended")
        #expect(log.reduce(0) { $0 + $1.count } == secondFills - firstFills)
        let live = harness.snapshot()
        harness.close()

        // What a crash in the middle of the next checkpoint leaves: a segment past the last
        // complete checkpoint (its bytes here are not even a fill).
        let connection = try SQLiteConnection(path: harness.journalPath)
        var lastFills: Int64 = -1
        try connection.query("SELECT fills FROM checkpoints ORDER BY seq DESC LIMIT 1") { lastFills = $0.int64(at: 0) }
        #expect(lastFills >= secondFills)
        try connection.run("INSERT INTO checkpoint_fills (first, count, bytes) VALUES (?1, 3, X'FFFFFF')", [.integer(lastFills)])
        connection.close()
        try harness.open(checkpointEvery: 20)
        #expect(harness.snapshot()["positions"]!.serialized == live["positions"]!.serialized)
        let reopened = try #require(try harness.journal.latestCheckpoint())
        let (_, rewritten) = try submitUntilCheckpointAfter(reopened, harness, generator: &generator)
        #expect(rewritten.first?.first == lastFills)
        let liveAgain = harness.snapshot()
        harness.close()
        try harness.open(checkpointEvery: 20)
        #expect(harness.snapshot()["positions"]!.serialized == liveAgain["positions"]!.serialized)
        #expect(harness.snapshot()["accounts"]!.serialized == liveAgain["accounts"]!.serialized)
        harness.close()
    }

    /// Events replayed at start count toward the next checkpoint: a server stopped short of a
    /// checkpoint again and again must not replay more at every start.
    @Test func eventsReplayedAtStartCountTowardTheNextCheckpoint() throws {
        let harness = try PipelineHarness(checkpointEvery: 20)
        var generator = MessageGenerator(seed: 21)
        for _ in 0..<3 { _ = harness.submit(json: generator.batch(size: 5)) }
        harness.close()
        try harness.open(checkpointEvery: 20)
        #expect(try harness.journal.latestCheckpoint() == nil)
        var submitted = 0
        while try harness.journal.latestCheckpoint() == nil, submitted < 40 {
            _ = harness.submit(json: generator.batch(size: 1))
            submitted += 1
        }
        // 15 replayed + 5 new reach 20; a few more commits carry the encoded pieces.
        #expect(submitted < 15, "a checkpoint after \(submitted) new events")
        harness.close()
    }

    /// A journal whose newest checkpoint holds its fills itself (written before schema v6, or by
    /// `append(checkpoint:)`) is restored from it, and the first incremental checkpoint after it
    /// writes the whole fill log from fill 0, so that a restart from that one equals the live state.
    @Test func theFirstCheckpointAfterAWholeBlobWritesTheWholeLog() throws {
        let harness = try PipelineHarness(checkpointEvery: 1_000_000)
        var generator = MessageGenerator(seed: 31)
        for _ in 0..<12 { _ = harness.submit(json: generator.batch(size: 5)) }
        harness.close()
        do {
            let journal = try Journal(JournalOptions(path: harness.journalPath))
            let full = try LedgerReplay.replay(journal: journal, catalog: harness.catalog, config: LedgerConfig(), useCheckpoint: false)
            #expect(full.ledger.fillCount > 20)
            try journal.append([], checkpoint: (seq: journal.lastSeq, state: full.ledger.encodeState()))
            #expect(try journal.latestCheckpoint()?.fillCount == nil)
            journal.close()
        }
        try harness.open(checkpointEvery: 20)
        let whole = try #require(try harness.journal.latestCheckpoint())
        let (next, log) = try submitUntilCheckpointAfter(whole, harness, generator: &generator)
        #expect(log.first?.first == 0 && log.reduce(0) { $0 + $1.count } == next.fillCount)
        let live = harness.snapshot()
        harness.close()
        try harness.open(checkpointEvery: 20)
        #expect(harness.snapshot()["positions"]!.serialized == live["positions"]!.serialized)
        #expect(harness.snapshot()["fills"]!.serialized == live["fills"]!.serialized)
        harness.close()
    }
}
