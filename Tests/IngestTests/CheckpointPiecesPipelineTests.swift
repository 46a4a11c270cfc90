import Foundation
import Journal
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
        #expect(pieces.filter { $0.seq == checkpoint.seq }.map(\.index) == Array(0..<(checkpoint.state.count + 63) / 64))
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
        #expect(first.index == 0 && first.count > 2)
        harness.store.failNextAppends(1)
        let failed = harness.submit(json: generator.batch(size: 5))
        #expect(failed.allSatisfy { if case .rejected(let code, _) = $0 { code == "storage_error" } else { false } })
        let failedPieces = try #require(harness.store.piecesPerAppend.withLock { $0.last })
        #expect(failedPieces.map(\.index) == [1])
        try submitUntilCheckpointed(harness, generator: &generator)
        let stored = harness.store.piecesPerAppend.withLock { $0.flatMap { $0 } }.filter { $0.seq == first.seq }.map(\.index)
        // Piece 1 twice (the failed commit's, then again), every piece in order.
        #expect(stored == [0, 1] + Array(1..<first.count))
        #expect(try harness.journal.latestCheckpoint()?.seq == first.seq)
        let live = harness.snapshot()
        harness.close()
        try harness.open(checkpointEvery: 20)
        #expect(harness.snapshot()["positions"]!.serialized == live["positions"]!.serialized)
        harness.close()
    }
}
