import Bytes
import TestSupport
import Testing
@testable import Journal

@Suite struct ReadTests {
    @Test func execIdLookupsFindTheStoringSeq() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append([EventFixtures.mark("ZNZ6", price: "110-16", units: 1), EventFixtures.fill("E1")])
        try journal.append([EventFixtures.fill("E2"), EventFixtures.bust("E1")])
        #expect(try journal.seq(ofExecId: "E1") == 2)
        #expect(try journal.seq(ofExecId: "E2") == 3)
        #expect(try journal.seq(ofExecId: "E3") == nil)
        #expect(try journal.allExecIds() == ["E1": 2, "E2": 3])
    }

    /// The fill index lists fills by (account, instrument, seq); the seqs come back in seq order
    /// whatever their groups, fill events only (a bust or a mark is no fill).
    @Test func allFillSeqsAreTheFillEventsInSeqOrder() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        #expect(try journal.allFillSeqs() == [])
        try journal.append([EventFixtures.mark("ZNZ6", price: "110-16", units: 1),
                            EventFixtures.fill("E1", account: "ZZZ"),
                            EventFixtures.fill("E2", account: "ACC1", instrument: "ZNZ6")])
        try journal.append([EventFixtures.fill("E3", account: "ACC1", instrument: "ZFZ6"), EventFixtures.bust("E1"),
                             EventFixtures.fill("E4", account: "ZZZ"), EventFixtures.fill("E5", account: "ACC1", instrument: "ZNZ6")])
        // In index order: 4 (ACC1, ZFZ6), 3, 7 (ACC1, ZNZ6), 2, 6 (ZZZ, ZNZ6).
        #expect(try journal.allFillSeqs() == [2, 3, 4, 6, 7])
    }

    /// Property: after random batches, `events(after: s, limit: n)` is exactly s+1 … min(s+n, last).
    @Test(arguments: [UInt64(1), 7, 42])
    func eventsAfterAnySeqAreCompleteAndOrdered(seed: UInt64) throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        var generator = SeededRandom(seed: seed)
        var next = 0
        for _ in 0..<25 {
            let size = Int.random(in: 0...9, using: &generator)
            let batch = (0..<size).map { _ -> NewEvent in
                next += 1
                return Bool.random(using: &generator) ? EventFixtures.fill("X\(next)")
                                                      : EventFixtures.mark("ZNZ6", price: "p\(next)", units: Int64(next))
            }
            try journal.append(batch)
        }
        let last = journal.lastSeq
        #expect(last == Seq(next))
        for after in Seq(0)...last + 1 {
            for limit in [1, 3, 1_000] {
                let records = try journal.events(after: after, limit: limit)
                let expected = after + 1 > min(after + Seq(limit), last) ? [] : Array((after + 1)...min(after + Seq(limit), last))
                #expect(records.map(\.seq) == expected, "after \(after) limit \(limit)")
            }
        }
        let payloads = try journal.events(after: 0, limit: 10_000).map(\.payload)
        #expect(Set(payloads).count == next)
    }

    @Test func fillHistoryFiltersAndPagesOldestFirst() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append([EventFixtures.fill("A1", account: "ACC1", instrument: "ZNZ6"),
                            EventFixtures.fill("A2", account: "ACC2", instrument: "ZNZ6"),
                            EventFixtures.fill("A3", account: "ACC1", instrument: "ZBZ6"),
                            EventFixtures.fill("A4", account: "ACC1", instrument: "ZNZ6"),
                            EventFixtures.fill("A5", account: "ACC1", instrument: "ZNZ6")])
        #expect(try journal.fills(account: "ACC1", instrument: nil, since: nil, limit: 100).map(\.execId) == ["A1", "A3", "A4", "A5"])
        #expect(try journal.fills(account: "ACC1", instrument: "ZNZ6", since: nil, limit: 100).map(\.execId) == ["A1", "A4", "A5"])
        #expect(try journal.fills(account: nil, instrument: "ZNZ6", since: nil, limit: 100).map(\.execId) == ["A1", "A2", "A4", "A5"])
        // Without since: the most recent `limit`, still oldest first.
        #expect(try journal.fills(account: "ACC1", instrument: nil, since: nil, limit: 2).map(\.execId) == ["A4", "A5"])
        // With since: the first `limit` after it.
        #expect(try journal.fills(account: "ACC1", instrument: nil, since: 1, limit: 2).map(\.execId) == ["A3", "A4"])
        #expect(try journal.fills(account: "ACC1", instrument: nil, since: 4, limit: 2).map(\.execId) == ["A5"])
        #expect(try journal.fills(account: "NOBODY", instrument: nil, since: nil, limit: 2).isEmpty)
    }

    @Test func checkpointRoundTripsAndOldOnesArePruned() throws {
        let directory = TemporaryDirectory()
        var options = JournalOptions(path: directory.file("j.db"))
        options.checkpointsKept = 2
        let journal = try Journal(options)
        #expect(try journal.latestCheckpoint() == nil)
        let state: [UInt8] = [0, 1, 2, 255, 0, 7]
        try journal.append([EventFixtures.fill("E1"), EventFixtures.fill("E2")], checkpoint: (seq: 2, state: state))
        let checkpoint = try #require(try journal.latestCheckpoint())
        #expect(checkpoint.seq == 2)
        #expect(checkpoint.state == state)
        #expect(checkpoint.createdAt > 0)

        try journal.append([EventFixtures.fill("E3")], checkpoint: (seq: 3, state: [3]))
        try journal.append([EventFixtures.fill("E4")], checkpoint: (seq: 4, state: []))
        let latest = try #require(try journal.latestCheckpoint())
        #expect(latest.seq == 4)
        #expect(latest.state == [])
        #expect(try countRows("checkpoints", in: directory.file("j.db")) == 2)
    }

    @Test func checkpointBeyondTheBatchIsRefused() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        let error = #expect(throws: JournalError.self) {
            try journal.append([EventFixtures.fill("E1")], checkpoint: (seq: 2, state: [1]))
        }
        #expect(error?.code == "invalid")
        #expect(journal.lastSeq == 0)
    }

    @Test func cursorsAreStoredWithTheirBatch() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        #expect(try journal.cursor("tt-fills") == nil)
        try journal.append([EventFixtures.fill("E1")], cursors: [SourceCursor(name: "tt-fills", value: "1700")])
        #expect(try journal.cursor("tt-fills") == "1700")
        try journal.append([], cursors: [SourceCursor(name: "tt-fills", value: "1800"), SourceCursor(name: "other", value: "x")])
        #expect(try journal.cursor("tt-fills") == "1800")
        #expect(try journal.cursor("other") == "x")
        // A failed batch moves no cursor.
        _ = try? journal.append([EventFixtures.bust("NOPE")], cursors: [SourceCursor(name: "tt-fills", value: "1900")])
        #expect(try journal.cursor("tt-fills") == "1800")
    }

    @Test func auditTrailKeepsOrderAndSeqs() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.audit([AuditEntry(time: 1, actor: "feed-token", action: "reject", detail: "price_off_grid E9")])
        try journal.append([EventFixtures.fill("E1")],
                           audit: [AuditEntry(time: 2, actor: "feed-token", action: "ingest", detail: "E1", seq: journal.lastSeq + 1)])
        try journal.audit([])
        let entries = try journal.auditEntries(limit: 10)
        #expect(entries == [AuditEntry(time: 1, actor: "feed-token", action: "reject", detail: "price_off_grid E9"),
                            AuditEntry(time: 2, actor: "feed-token", action: "ingest", detail: "E1", seq: 1)])
        #expect(try journal.auditEntries(limit: 1).map(\.time) == [2])
    }

    @Test func readOnlyJournalSeesTheWriterAndCannotWrite() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        let writer = try Journal(JournalOptions(path: path))
        try writer.append([EventFixtures.fill("E1")])
        var options = JournalOptions(path: path)
        options.readOnly = true
        let reader = try Journal(options)
        #expect(reader.epoch == writer.epoch)
        #expect(reader.lastSeq == 1)
        try writer.append([EventFixtures.fill("E2")])
        #expect(try reader.events(after: 0, limit: 10).map(\.seq) == [1, 2])
        let error = #expect(throws: JournalError.self) { try reader.append([EventFixtures.fill("E3")]) }
        #expect(error?.code == "readonly")
    }

    @Test func readOnlyOpenWorksAfterTheWriterClosed() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        let writer = try Journal(JournalOptions(path: path))
        try writer.append([EventFixtures.fill("E1")], cursors: [SourceCursor(name: "c", value: "1")])
        writer.close()
        var options = JournalOptions(path: path)
        options.readOnly = true
        let reader = try Journal(options)
        #expect(reader.lastSeq == 1)
        #expect(try reader.cursor("c") == "1")
        #expect(try reader.allExecIds() == ["E1": 1])
    }

    @Test func readOnlyOpenOfAMissingFileFails() throws {
        let directory = TemporaryDirectory()
        var options = JournalOptions(path: directory.file("absent.db"))
        options.readOnly = true
        let error = #expect(throws: JournalError.self) { _ = try Journal(options) }
        #expect(error?.code == "missing")
    }
}

/// Counts rows through a separate connection: what is really in the file.
func countRows(_ table: String, in path: String) throws -> Int64 {
    let connection = try SQLiteConnection(path: path)
    defer { connection.close() }
    guard case .integer(let count)? = try connection.scalar("SELECT count(*) FROM \(table)") else { return -1 }
    return count
}
