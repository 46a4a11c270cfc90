import Journal
import JSON
import Ledger
import Testing
import Wire
@testable import Ingest

/// A fill's seq comes from the ledger's arrival index and the pipeline's seqs by arrival: right
/// after a restart (from the journal's fill index), with non-fill events between the fills so
/// that seq ≠ arrival, after a failed commit (rolled back with the ledger), and never from a
/// journal whose fill index disagrees with its events.
@Suite struct FillSeqTests {
    static func fill(_ execId: String, account: String = "ACC1", instrument: String = "ZNZ6", side: String = "buy", qty: Int = 1) -> String {
        #"{"type":"fill","execId":"\#(execId)","account":"\#(account)","instrument":"\#(instrument)","side":"\#(side)","qty":\#(qty),"price":"110-16","time":"2026-11-24T14:00:00.000Z"}"#
    }

    static func mark(_ price: String = "110-16") -> String { #"{"type":"mark","instrument":"ZNZ6","price":"\#(price)"}"# }

    static let order = #"{"type":"order","action":"new","orderId":"O1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":5,"price":"110-08"}"#

    /// Fills at seqs 3, 5 and 7 (arrivals 0, 1, 2). B's group (ACC2, ZFZ6) sorts after A's and
    /// C's (ACC1, ZNZ6) in the fill index, so the index lists their seqs as 3, 7, 5.
    static let day = [
        WorkedExample.sod, mark(), fill("A", qty: 3), order,
        fill("B", account: "ACC2", instrument: "ZFZ6", side: "sell", qty: 2), mark("110-17"), fill("C", qty: 1),
    ]

    static func isStorageError(_ result: SubmitResult) -> Bool {
        if case .rejected("storage_error", _) = result { return true }
        return false
    }

    /// The seqs the snapshot's fills carry, by execId.
    static func snapshotFillSeqs(_ harness: PipelineHarness) -> [String: Int64] {
        var seqs: [String: Int64] = [:]
        for fill in harness.snapshot()["fills"]?.items ?? [] {
            if let execId = fill["execId"]?.stringValue, let seq = fill["seq"]?.intValue { seqs[execId] = seq }
        }
        return seqs
    }

    @Test(arguments: [1_000_000, 3])
    func afterARestartDuplicatesBustsAndSnapshotsNameTheSeqThatStoredTheFill(checkpointEvery: Int) throws {
        let harness = try PipelineHarness(checkpointEvery: checkpointEvery)
        #expect(harness.submit(json: Self.day) == (1...7).map { SubmitResult.ack(seq: Int64($0)) })
        harness.close()
        try harness.open(checkpointEvery: checkpointEvery)
        defer { harness.close() }
        if checkpointEvery == 3 { #expect(try harness.journal.latestCheckpoint() != nil, "recovery starts from a checkpoint") }

        #expect(harness.submit(json: [Self.fill("A", qty: 3), Self.fill("B", account: "ACC2", instrument: "ZFZ6", side: "sell", qty: 2),
                                      Self.fill("C")]) == [.duplicate(seq: 3), .duplicate(seq: 5), .duplicate(seq: 7)])
        #expect(Self.snapshotFillSeqs(harness) == ["A": 3, "B": 5, "C": 7])

        // A bust and a correction mark the stored fill they name (the journal checks its execId).
        #expect(harness.submit(json: [#"{"type":"bust","execId":"B"}"#, #"{"type":"correct","execId":"C","qty":2}"#])
                == [.ack(seq: 8), .ack(seq: 9)])
        #expect(try harness.journal.fill(execId: "A")?.status == "live")
        #expect(try harness.journal.fill(execId: "B")?.status == "busted")
        #expect(try harness.journal.fill(execId: "C")?.status == "corrected")

        // A fill after the restart goes on from the recovered seqs.
        #expect(harness.submit(json: [Self.mark("110-18"), Self.fill("D")]) == [.ack(seq: 10), .ack(seq: 11)])
        #expect(harness.submit(json: [Self.fill("D"), Self.fill("A", qty: 3)]) == [.duplicate(seq: 11), .duplicate(seq: 3)])
        #expect(Self.snapshotFillSeqs(harness) == ["A": 3, "B": 5, "C": 7, "D": 11])
    }

    @Test func duplicatesWithinOneRequestNameTheFirstCopysSeq() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        #expect(harness.submit(json: [Self.mark(), Self.fill("P"), Self.mark("110-17"), Self.fill("P")])
                == [.ack(seq: 1), .ack(seq: 2), .ack(seq: 3), .duplicate(seq: 2)])
        // All or nothing: the copy is not a rejection, and it names the seq of the first.
        #expect(harness.submit(json: [Self.fill("Q"), Self.mark("110-18"), Self.fill("Q")], atomic: true)
                == [.ack(seq: 4), .ack(seq: 5), .duplicate(seq: 4)])
        #expect(Self.snapshotFillSeqs(harness) == ["P": 2, "Q": 4])
    }

    @Test func aRequestThatFailsToCommitLeavesNoSeqBehind() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        #expect(harness.submit(json: [WorkedExample.sod, Self.fill("A")]) == [.ack(seq: 1), .ack(seq: 2)])

        // X and Y were applied (at seqs 4 and 5) before the commit failed.
        harness.store.failNextAppends(1)
        let failed = harness.submit(json: [Self.mark(), Self.fill("X"), Self.fill("Y")], atomic: true)
        #expect(failed.count == 3 && failed.allSatisfy(Self.isStorageError), "\(failed)")

        // Z is the second arrival, as X was; its seq is its own, not X's.
        #expect(harness.submit(json: [Self.mark(), Self.mark("110-17"), Self.mark("110-18"), Self.fill("Z")]).last == .ack(seq: 6))
        #expect(harness.submit(json: [Self.fill("Z")]) == [.duplicate(seq: 6)])
        #expect(harness.submit(json: [Self.fill("X")]) == [.ack(seq: 7)])
        #expect(harness.submit(json: [#"{"type":"bust","execId":"Z"}"#]) == [.ack(seq: 8)])
        #expect(try harness.journal.fill(execId: "Z")?.status == "busted")

        // A request refused as a whole applies nothing either.
        let refused = harness.submit(json: [Self.fill("W"), #"{"type":"bust","execId":"NOPE"}"#], atomic: true)
        #expect(refused.map(\.code) == ["not_applied", "unknown_fill"])
        #expect(harness.submit(json: [Self.mark(), Self.fill("V"), Self.fill("V")]) == [.ack(seq: 9), .ack(seq: 10), .duplicate(seq: 10)])
        #expect(Self.snapshotFillSeqs(harness) == ["A": 2, "Z": 6, "X": 7, "V": 10])
    }

    /// The day journaled by a pipeline that stopped, its journal reopened under a `FailingStore`.
    private static func journaledDay() throws -> (PipelineHarness, Journal, FailingStore) {
        let harness = try PipelineHarness()
        #expect(harness.submit(json: day).count == 7)
        harness.close()
        let journal = try Journal(JournalOptions(path: harness.journalPath))
        return (harness, journal, FailingStore(journal))
    }

    /// Recovery refuses a journal whose fill index lists more or fewer fill events than replaying
    /// its events gives the ledger: seqs by arrival would be wrong from the first missing one.
    @Test(arguments: ["one missing", "one extra"])
    func aJournalWhoseFillIndexDisagreesWithItsEventsIsNotServed(damage: String) throws {
        let (harness, journal, store) = try Self.journaledDay()
        defer { journal.close() }
        store.editFillSeqs { seqs in damage == "one missing" ? Array(seqs.dropLast()) : seqs + [8] }
        let error = #expect(throws: RecoveryError.self) {
            _ = try IngestPipeline(journal: store, catalog: harness.catalog, config: LedgerConfig(), options: .init()) { _ in }
        }
        let listed = damage == "one missing" ? 2 : 4
        #expect(error?.description.contains("fill index lists \(listed) fill events") == true, "\(String(describing: error))")
        #expect(error?.description.contains("gave the ledger 3 fills") == true)

        // The same journal as stored recovers.
        store.editFillSeqs(nil)
        let pipeline = try IngestPipeline(journal: store, catalog: harness.catalog, config: LedgerConfig(), options: .init()) { _ in }
        #expect(pipeline.seqByArrival.count == 3)
    }

    /// The right number of seqs paired with the wrong fills (here the first two swapped) is
    /// refused too: the first, middle and last arrivals are checked against their events.
    @Test func aFillIndexThatPairsSeqsWithTheWrongFillsIsNotServed() throws {
        let (harness, journal, store) = try Self.journaledDay()
        defer { journal.close() }
        store.editFillSeqs { seqs in [seqs[1], seqs[0]] + seqs.dropFirst(2) }
        let error = #expect(throws: RecoveryError.self) {
            _ = try IngestPipeline(journal: store, catalog: harness.catalog, config: LedgerConfig(), options: .init()) { _ in }
        }
        #expect(error?.description.contains("pairs fill 0") == true, "\(String(describing: error))")
        store.editFillSeqs(nil)
        let pipeline = try IngestPipeline(journal: store, catalog: harness.catalog, config: LedgerConfig(), options: .init()) { _ in }
        #expect(pipeline.seqByArrival.count == 3)
    }

    /// A rebuild after a failed commit checks the same, and stops writes rather than serve it.
    @Test func aRebuildFromADisagreeingJournalStopsWrites() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        #expect(harness.submit(json: Self.day).count == 7)
        harness.store.editFillSeqs { Array($0.dropFirst()) }
        harness.store.failNextAppends(1)
        #expect(harness.submit(json: [Self.fill("E")]).allSatisfy(Self.isStorageError))
        guard case .stopped(let reason) = harness.pipeline.statistics.storage.withLock({ $0 }) else {
            Issue.record("expected writes stopped")
            return
        }
        #expect(reason.contains("fill index lists 2 fill events"), "\(reason)")
    }
}
