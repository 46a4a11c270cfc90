import Bytes
import CFaultVFS
import CSQLite
import Foundation
import JSON
import Journal
import Testing
import TestSupport
import Wire
@testable import Ingest

/// Storage faults under the real SQLite, injected by a VFS shim (`CFaultVFS`) the way SQLite's
/// own tests do: a full disk, write, sync and read errors, a busy lock. Whatever fails, nothing
/// acknowledged is lost, nothing unacknowledged is stored, and the file stays sound.
///
/// The faults are process-wide, so every test that arms them lives in this one serialized suite.
@Suite(.serialized) struct StorageFaultTests {
    static let vfs = "ladderwire-faults"

    init() {
        #expect(lw_faultvfs_register(Self.vfs) == SQLITE_OK)
        lw_faultvfs_clear()
    }

    static func options(_ path: String) -> JournalOptions {
        var options = JournalOptions(path: path)
        options.vfs = vfs
        return options
    }

    static func fill(_ execId: String, seq: Int) -> NewEvent {
        let row = FillRow(execId: execId, account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 1, price: "110'160",
                          priceUnits: 11_050_000_000, time: Int64(seq), source: "test")
        return NewEvent(kind: "fill", account: "ACC1", instrument: "ZNZ6", execId: execId, time: Int64(seq), source: "test",
                        payload: #"{"type":"fill","execId":"\#(execId)"}"#, deltas: .json("[]"), fill: row)
    }

    /// Every stored (seq, execId), read through the default VFS (no faults).
    static func stored(_ path: String) throws -> [Int64: String] {
        var options = JournalOptions(path: path)
        options.readOnly = true
        let journal = try Journal(options)
        defer { journal.close() }
        var all: [Int64: String] = [:]
        var after: Int64 = 0
        while true {
            let records = try journal.events(after: after, limit: 1_000)
            guard let last = records.last else { break }
            for record in records { all[record.seq] = record.execId ?? "" }
            after = last.seq
        }
        #expect(try journal.integrityCheck())
        return all
    }

    /// (The extended I/O codes are macros Swift cannot import: SQLITE_IOERR | (n << 8).)
    static let faultCodes: [(op: lw_fault_op, code: Int32, name: String)] = [
        (LW_FAULT_WRITE, SQLITE_FULL, "disk full"),
        (LW_FAULT_WRITE, SQLITE_IOERR | (3 << 8), "write error"),
        (LW_FAULT_SYNC, SQLITE_IOERR | (4 << 8), "fsync error"),
        (LW_FAULT_READ, SQLITE_IOERR | (1 << 8), "read error"),
        (LW_FAULT_LOCK, SQLITE_BUSY, "busy lock"),
    ]

    /// Each kind of fault under a commit: the commit fails with a clear error, `lastSeq` does not
    /// move, and the next commit after the fault works. Reads are faulted on a fresh connection
    /// (a warm page cache never reaches the disk); the lock stays refused past the busy timeout.
    @Test func eachFaultFailsOneCommitAndLeavesTheFileSound() throws {
        for fault in Self.faultCodes {
            let folder = TemporaryDirectory()
            let path = folder.file("journal.db")
            var options = Self.options(path)
            options.durability = .full   // every commit syncs, so sync faults have a sync to hit
            options.busyTimeoutMilliseconds = 50
            var journal = try Journal(options)
            try journal.append([Self.fill("A1", seq: 1), Self.fill("A2", seq: 2)], audit: [], cursors: [], checkpoint: nil)
            let repeats: Int32 = fault.op == LW_FAULT_LOCK ? 0 : 1
            var failed = false
            if fault.op == LW_FAULT_READ {
                journal.close()
                lw_faultvfs_arm(Int32(fault.op.rawValue), 0, fault.code, repeats)
                do {
                    journal = try Journal(options)
                    try journal.append([Self.fill("B1", seq: 3)], audit: [], cursors: [], checkpoint: nil)
                } catch {
                    failed = true
                    #expect(!error.message.isEmpty)
                }
            } else {
                lw_faultvfs_arm(Int32(fault.op.rawValue), 0, fault.code, repeats)
                do {
                    try journal.append([Self.fill("B1", seq: 3)], audit: [], cursors: [], checkpoint: nil)
                } catch {
                    failed = true
                    #expect(!error.message.isEmpty, "\(fault.name)")
                    #expect(journal.lastSeq == 2, "\(fault.name)")
                }
            }
            #expect(lw_faultvfs_failures(Int32(fault.op.rawValue)) > 0, "\(fault.name) never reached the disk")
            #expect(failed, "\(fault.name) hit but the commit succeeded")
            lw_faultvfs_clear()
            journal.close()
            journal = try Journal(options)
            #expect(journal.lastSeq == 2, "\(fault.name)")
            try journal.append([Self.fill("C1", seq: 3)], audit: [], cursors: [], checkpoint: nil)
            journal.close()
            #expect(try Self.stored(path) == [1: "A1", 2: "A2", 3: "C1"], "\(fault.name)")
            folder.remove()
        }
    }

    /// 10,000 commits with faults of every kind at random points inside them: afterwards the file
    /// holds exactly the commits that succeeded, in seq order, with no gap, and passes
    /// `PRAGMA integrity_check`.
    @Test func tenThousandCommitsUnderRandomFaults() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.file("journal.db")
        var journal = try Journal(Self.options(path))
        var random = SeededRandom(seed: 2026)
        var model: [Int64: String] = [:]
        var failures = 0
        let deadline = Date().addingTimeInterval(120)
        var iterations = 0
        while iterations < 10_000 && Date() < deadline {
            iterations += 1
            if random.below(5) == 0 {
                let fault = Self.faultCodes[random.below(Self.faultCodes.count)]
                lw_faultvfs_arm(Int32(fault.op.rawValue), Int32(random.below(6)), fault.code, Int32(1 + random.below(2)))
            }
            let base = journal.lastSeq
            let events = (0..<(1 + random.below(3))).map { Self.fill("E\(iterations)-\($0)", seq: Int(base) + $0 + 1) }
            do {
                let seqs = try journal.append(events, audit: [], cursors: [], checkpoint: nil)
                for (seq, event) in zip(seqs, events) { model[seq] = event.execId }
                #expect(seqs.first == base + 1)
            } catch {
                failures += 1
                #expect(journal.lastSeq == base)
            }
            lw_faultvfs_clear()
            // Now and then a fresh connection, as after a restart, must see the same state.
            if iterations % 1_000 == 0 {
                journal.close()
                journal = try Journal(Self.options(path))
                #expect(journal.lastSeq == Int64(model.count))
            }
        }
        journal.close()
        #expect(iterations == 10_000, "ran out of time after \(iterations) iterations")
        #expect(failures > 500, "the faults must actually fail commits (\(failures) did)")
        #expect(try Self.stored(path) == model)
        #expect(model.keys.sorted() == Array(1...Int64(model.count)))
    }

    /// The pipeline over a journal on the faulty disk: a full disk answers every item of the
    /// batch `storage_error`, nothing of it is stored or published, and writes work again by
    /// themselves once space returns.
    @Test func aFullDiskUnderThePipelineLosesNothingAndRecovers() throws {
        let harness = try PipelineHarness(vfs: Self.vfs)
        defer { harness.close() }
        #expect(harness.submit(json: [WorkedExample.sod, WorkedExample.fills[0]]) == [.ack(seq: 1), .ack(seq: 2)])
        let before = harness.snapshot().serialized
        lw_faultvfs_arm(Int32(LW_FAULT_WRITE.rawValue), 0, SQLITE_FULL, 0)   // the disk stays full
        for _ in 0..<3 {
            let results = harness.submit(json: [WorkedExample.fills[1], WorkedExample.fills[2]])
            #expect(results.allSatisfy { if case .rejected("storage_error", _) = $0 { return true }; return false }, "\(results)")
        }
        #expect(harness.snapshot().serialized == before)
        guard case .failing(let error) = harness.pipeline.statistics.storage.withLock({ $0 }) else {
            Issue.record("storage state should be failing")
            return
        }
        #expect(error.contains("full"), "\(error)")
        lw_faultvfs_clear()
        #expect(harness.submit(json: [WorkedExample.fills[1], WorkedExample.fills[2]]) == [.ack(seq: 3), .ack(seq: 4)])
        #expect(harness.pipeline.statistics.storage.withLock { $0 } == .ok)
        #expect(harness.published.withLock { $0.map(\.seq) } == [1, 2, 3, 4])
    }
}
