import Bytes
import JSON
import Journal
import Testing
import Wire
@testable import Ingest

/// The pipeline's failure path, with faults injected under a real journal: a failed commit
/// leaves memory equal to storage, answers every item `storage_error`, publishes nothing; a
/// rebuild that fails too stops writes and says so.
@Suite struct CommitFailureTests {
    static func fill(_ execId: String, side: String = "buy", qty: Int = 1, price: String = "110-16") -> String {
        #"{"type":"fill","execId":"\#(execId)","account":"ACC1","instrument":"ZNZ6","side":"\#(side)","qty":\#(qty),"price":"\#(price)","time":"2026-11-24T14:00:00.000Z"}"#
    }

    static func isStorageError(_ result: SubmitResult) -> Bool {
        if case .rejected("storage_error", _) = result { return true }
        return false
    }

    @Test func aFailedCommitAnswersEveryItemStorageErrorAndRebuildsTheLedger() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        #expect(harness.submit(json: [WorkedExample.sod, WorkedExample.fills[0]]) == [.ack(seq: 1), .ack(seq: 2)])
        let before = harness.snapshot().serialized

        harness.store.failNextAppends(1)
        let failed = harness.submit(json: [
            WorkedExample.fills[1], WorkedExample.fills[1],   // a new fill and its copy in the same batch
            WorkedExample.fills[0],                          // a duplicate of a committed fill
            Self.fill("OFF", price: "110-16.25"),            // off the grid
        ])
        #expect(failed.count == 4)
        #expect(failed.allSatisfy(Self.isStorageError), "\(failed)")
        #expect(harness.store.appendsFailed == 1)
        #expect(harness.journal.lastSeq == 2)
        #expect(harness.published.withLock { $0.map(\.seq) } == [1, 2])
        #expect(harness.pipeline.statistics.storage.withLock { $0 } == .failing("injected: disk I/O error"))
        // Memory equals storage: the rolled-back fill left no trace in the ledger.
        #expect(harness.snapshot().serialized == before)

        // Retrying is safe: the rolled-back fill is new to the pipeline, not a duplicate.
        #expect(harness.submit(json: [WorkedExample.fills[1]]) == [.ack(seq: 3)])
        #expect(harness.pipeline.statistics.storage.withLock { $0 } == .ok)
        #expect(harness.published.withLock { $0.map(\.seq) } == [1, 2, 3])
    }

    @Test func anAtomicRequestThatFailsToCommitKeepsNothing() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        harness.store.failNextAppends(1)
        let failed = harness.submit(json: [WorkedExample.sod, WorkedExample.fills[0]], atomic: true)
        #expect(failed.allSatisfy(Self.isStorageError))
        #expect(harness.snapshot()["positions"]?.arrayCount == 0)
        #expect(harness.submit(json: [WorkedExample.sod, WorkedExample.fills[0]], atomic: true) == [.ack(seq: 1), .ack(seq: 2)])
    }

    @Test func aRebuildThatFailsStopsWritesAndSaysSo() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [WorkedExample.sod, WorkedExample.fills[0]])
        harness.store.failNextAppends(1)
        harness.store.setFailReads(true)
        let failed = harness.submit(json: [WorkedExample.fills[1]])
        #expect(failed.allSatisfy(Self.isStorageError))
        guard case .stopped(let reason) = harness.pipeline.statistics.storage.withLock({ $0 }) else {
            Issue.record("expected writes stopped")
            return
        }
        #expect(reason.contains("could not be rebuilt"))

        // Even with the disk healthy again, nothing is written from a ledger that cannot be trusted.
        harness.store.setFailReads(false)
        let refused = harness.submit(json: [WorkedExample.fills[2], WorkedExample.mark])
        #expect(refused.count == 2)
        for result in refused {
            guard case .rejected("storage_error", let message) = result else { Issue.record("\(result)"); continue }
            #expect(message.hasPrefix("writes stopped"))
        }
        #expect(harness.journal.lastSeq == 2)
        #expect(harness.published.withLock { $0.map(\.seq) } == [1, 2])
        #expect(harness.read { $0.writesStopped } != nil)
    }

    /// Random batches with random commit faults: whatever was acknowledged is stored exactly once,
    /// whatever was refused is not, and the ledger the pipeline serves equals a fresh recovery.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomFaultsNeverSplitMemoryFromStorage(seed: UInt64) throws {
        let harness = try PipelineHarness()
        var random = SeededRandom(seed: seed)
        var acked: [String: Int64] = [:]
        var refused = Set<String>()
        var next = 0
        for _ in 0..<60 {
            var lines: [String] = []
            var ids: [String] = []
            for _ in 0..<(1 + random.below(5)) {
                // Sometimes resend an earlier id (acked or refused) instead of a new one.
                let id: String
                if next > 0 && random.below(4) == 0 { id = "R\(random.below(next))" } else { id = "R\(next)"; next += 1 }
                ids.append(id)
                lines.append(Self.fill(id, side: random.below(2) == 0 ? "buy" : "sell", qty: 1 + random.below(3)))
            }
            if random.below(3) == 0 { harness.store.failNextAppends(1) }
            let results = harness.submit(json: lines)
            for (id, result) in zip(ids, results) {
                switch result {
                case .ack(let seq):
                    #expect(acked[id] == nil, "\(id) acknowledged twice")
                    acked[id] = seq
                    refused.remove(id)
                case .duplicate(let seq):
                    #expect(acked[id] == seq, "\(id) is a duplicate of something never acknowledged")
                case .rejected(let code, _):
                    #expect(code == "storage_error")
                    if acked[id] == nil { refused.insert(id) }
                }
            }
        }
        let served = harness.snapshot().serialized
        let stored = try harness.journal.allExecIds()
        #expect(stored == acked)
        #expect(refused.allSatisfy { stored[$0] == nil })
        harness.close()

        // A fresh recovery from the file agrees with what the pipeline served.
        try harness.open()
        #expect(harness.snapshot().serialized == served)
        harness.close()
    }
}
