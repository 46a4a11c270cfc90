import Bytes
import TestSupport
import Testing
@testable import Journal

@Suite struct AppendTests {
    @Test func seqsAreGaplessAcrossBatchesAndReopen() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        do {
            let journal = try Journal(JournalOptions(path: path))
            #expect(journal.lastSeq == 0)
            #expect(try journal.append([EventFixtures.fill("E1"), EventFixtures.fill("E2")]) == [1, 2])
            #expect(try journal.append([EventFixtures.mark("ZNZ6", price: "110-16", units: 28_288)]) == [3])
            #expect(try journal.append([]) == [])
            #expect(journal.lastSeq == 3)
            journal.close()
        }
        let reopened = try Journal(JournalOptions(path: path))
        #expect(reopened.lastSeq == 3)
        #expect(try reopened.append([EventFixtures.fill("E3")]) == [4])
        #expect(try reopened.events(after: 0, limit: 100).map(\.seq) == [1, 2, 3, 4])
    }

    @Test func storedEventReadsBackFieldForField() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        let event = NewEvent(kind: "fill", account: "ACC1", instrument: "ZNZ6", execId: "E1", time: 1_764_000_000_123_000_000,
                             source: "desk-token", payload: "{\"a\":\"é\"}", deltas: .json("[1,2]"))
        let before = wallClockNanos()
        try journal.append([event])
        let record = try #require(try journal.events(after: 0, limit: 1).first)
        #expect(record.seq == 1)
        #expect(record.kind == "fill")
        #expect(record.account == "ACC1")
        #expect(record.instrument == "ZNZ6")
        #expect(record.execId == "E1")
        #expect(record.time == 1_764_000_000_123_000_000)
        #expect(record.source == "desk-token")
        #expect(record.payload == "{\"a\":\"é\"}")
        #expect(record.deltas == .json("[1,2]"))
        #expect(record.committedAt >= before)
    }

    @Test func binaryDeltasComeBackAsTheBytesStored() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        // Bytes that are not UTF-8 text, including a zero: a BLOB keeps every one.
        let bytes: [UInt8] = [1, 0, 0xFF, 0xC3, 0x28, 7]
        try journal.append([EventFixtures.fill("E1"),
                            NewEvent(kind: "mark", instrument: "ZNZ6", time: 1, source: "test", payload: "{}", deltas: .binary(bytes))])
        let records = try journal.events(after: 0, limit: 10)
        #expect(records.map(\.deltas) == [.json(#"[{"type":"fill","execId":"E1"}]"#), .binary(bytes)])
    }

    @Test func fillRowIsStoredWithTheEventSeq() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append([EventFixtures.mark("ZNZ6", price: "110-16", units: 28_288),
                            EventFixtures.fill("E1", side: "sell", qty: 3, price: "110'085", priceUnits: 28_228)])
        let fill = try #require(try journal.fill(execId: "E1"))
        #expect(fill == FillRow(execId: "E1", account: "ACC1", instrument: "ZNZ6", side: "sell", qty: 3, price: "110'085",
                                priceUnits: 28_228, time: 1_000, source: "test", status: "live", seq: 2))
    }

    @Test func aFailingEventInsideABatchRollsBackEverything() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append([EventFixtures.fill("E1")], cursors: [SourceCursor(name: "tt", value: "100")])

        let error = #expect(throws: JournalError.self) {
            try journal.append([EventFixtures.fill("E2"), EventFixtures.mark("ZNZ6", price: "110-16", units: 1), EventFixtures.bust("E9")],
                               audit: [AuditEntry(time: 1, actor: "test", action: "ingest", detail: "batch")],
                               cursors: [SourceCursor(name: "tt", value: "200")],
                               checkpoint: (seq: 1, state: [1]))
        }
        #expect(error?.code == "not_found")
        #expect(error?.message.contains("E9") == true)
        #expect(journal.lastSeq == 1)
        #expect(try journal.events(after: 0, limit: 10).map(\.seq) == [1])
        #expect(try journal.seq(ofExecId: "E2") == nil)
        #expect(try journal.marks().isEmpty)
        #expect(try journal.auditEntries(limit: 10).isEmpty)
        #expect(try journal.cursor("tt") == "100")
        #expect(try journal.latestCheckpoint() == nil)
        // The next batch continues without a gap.
        #expect(try journal.append([EventFixtures.fill("E2")]) == [2])
    }

    @Test func aStatusUpdateNamingAnotherFillsSeqChangesNothing() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append([EventFixtures.fill("E1"), EventFixtures.fill("E2")])
        var bust = EventFixtures.bust("E1")
        bust.fillStatus?.fillSeq = 2
        let error = #expect(throws: JournalError.self) { try journal.append([bust]) }
        #expect(error?.code == "not_found")
        #expect(try journal.fill(execId: "E1")?.status == "live")
        #expect(try journal.fill(execId: "E2")?.status == "live")
        // With its own seq the bust lands.
        bust.fillStatus?.fillSeq = 1
        try journal.append([bust])
        #expect(try journal.fill(execId: "E1")?.status == "busted")
    }

    @Test func bustOfAnUnknownFillRollsBack() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        let error = #expect(throws: JournalError.self) {
            try journal.append([EventFixtures.fill("E1"), EventFixtures.bust("NOPE")])
        }
        #expect(error?.code == "not_found")
        #expect(journal.lastSeq == 0)
        #expect(try journal.seq(ofExecId: "E1") == nil)
    }

    @Test func bustAndCorrectionUpdateTheStoredFill() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append([EventFixtures.fill("E1", qty: 3, price: "110-18.5", priceUnits: 28_292),
                            EventFixtures.fill("E2", qty: 4, price: "110-20", priceUnits: 28_288)])
        let correction = NewEvent(kind: "correct", execId: "E2", time: 5, source: "test", payload: "{}",
                                  fillStatus: FillStatusUpdate(execId: "E2", status: "corrected", qty: 2, price: "110-18", priceUnits: 28_288))
        try journal.append([EventFixtures.bust("E1"), correction])
        let busted = try #require(try journal.fill(execId: "E1"))
        #expect(busted.status == "busted")
        #expect(busted.qty == 3)
        #expect(busted.originalQty == nil)
        let corrected = try #require(try journal.fill(execId: "E2"))
        #expect(corrected.status == "corrected")
        #expect(corrected.qty == 2)
        #expect(corrected.price == "110-18")
        #expect(corrected.originalQty == 4)
        #expect(corrected.originalPrice == "110-20")
        #expect(corrected.seq == 2)

        // A second correction keeps the very first values as the originals.
        let again = NewEvent(kind: "correct", execId: "E2", time: 6, source: "test", payload: "{}",
                             fillStatus: FillStatusUpdate(execId: "E2", status: "corrected", qty: 1))
        try journal.append([again])
        let twice = try #require(try journal.fill(execId: "E2"))
        #expect(twice.qty == 1)
        #expect(twice.originalQty == 4)
    }

    @Test func marksAndSodRowsKeepTheLatestValue() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        let sod = NewEvent(kind: "sod", account: "ACC1", instrument: "ZNZ6", time: 1, source: "test", payload: "{}",
                           sod: SodRow(account: "ACC1", instrument: "ZNZ6", qty: -2, price: "110-16", priceUnits: 28_288))
        try journal.append([EventFixtures.mark("ZNZ6", price: "110-16", units: 28_288), sod,
                            EventFixtures.mark("ZNZ6", price: "110-17", units: 28_296),
                            EventFixtures.mark("ZBZ6", price: "118-00", units: 30_208)])
        #expect(try journal.marks() == [MarkRow(instrument: "ZBZ6", price: "118-00", priceUnits: 30_208, time: 3_000, seq: 4),
                                        MarkRow(instrument: "ZNZ6", price: "110-17", priceUnits: 28_296, time: 3_000, seq: 3)])
        #expect(try journal.sodRows() == [SodRow(account: "ACC1", instrument: "ZNZ6", qty: -2, price: "110-16", priceUnits: 28_288, seq: 2)])
    }

    @Test func secondWriterOnTheSameFileIsDetected() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        let first = try Journal(JournalOptions(path: path))
        let second = try Journal(JournalOptions(path: path))
        try first.append([EventFixtures.fill("E1")])
        let error = #expect(throws: JournalError.self) { try second.append([EventFixtures.fill("E2")]) }
        #expect(error?.code == "conflict")
        #expect(second.lastSeq == 0)
        #expect(try first.events(after: 0, limit: 10).count == 1)
    }

    /// After this journal has appended, a commit by anyone else is still caught before the next
    /// append writes over it (the check is skipped only while the file's data version is the one
    /// this journal's own last commit left).
    @Test func anotherWriterBetweenTwoAppendsIsDetected() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        let journal = try Journal(JournalOptions(path: path))
        try journal.append([EventFixtures.fill("E1")])
        try journal.append([EventFixtures.fill("E2")])
        let intruder = try SQLiteConnection(path: path)
        _ = try intruder.run("INSERT INTO events (seq, kind, time, source, payload, deltas, committed_at) VALUES (3, 'mark', 1, 'x', '{}', '', 1)")
        let error = #expect(throws: JournalError.self) { try journal.append([EventFixtures.fill("E3")]) }
        #expect(error?.code == "conflict")
        #expect(journal.lastSeq == 2)
        // Its own audit commits between appends change the version too; appends go on.
        let other = try Journal(JournalOptions(path: directory.file("k.db")))
        try other.append([EventFixtures.fill("E1")])
        try other.audit([AuditEntry(time: 1, actor: "test", action: "note", detail: "between appends", seq: nil)])
        try other.append([EventFixtures.fill("E2")])
        #expect(other.lastSeq == 2)
    }

    /// The event row's strings and blobs go through one reused buffer that SQLite does not copy:
    /// every value must still be stored exactly, row after row, whatever its length (the buffer
    /// grows and moves between rows), empty values stay empty (not NULL), and NULLs stay NULL.
    @Test func rowValuesBoundWithoutCopiesAreStoredExactly() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        let journal = try Journal(JournalOptions(path: path))
        let long = String(repeating: "é\u{0}x", count: 3_000)   // NUL bytes inside, 12 KB: past the initial room
        let events = [
            NewEvent(kind: "note", time: 1, source: "", payload: "", deltas: .binary([])),
            NewEvent(kind: "note", account: long, time: 2, source: "s", payload: long, deltas: .binary(Array(long.utf8))),
            EventFixtures.fill("E-\(long.prefix(5))"),
            NewEvent(kind: "note", instrument: "ZNZ6", time: 4, source: "short", payload: "{}", deltas: .json("[1]")),
        ]
        for event in events { try journal.append([event]) }
        let reader = try SQLiteConnection(path: path, mode: .init(readOnly: true))
        var rows: [[SQLiteValue]] = []
        try reader.query("SELECT account, instrument, exec_id, source, payload, deltas, typeof(deltas), side FROM events ORDER BY seq") { row in
            rows.append((0..<8).map { row.value(at: $0) })
        }
        #expect(rows.count == 4)
        #expect(rows[0] == [.null, .null, .null, .text(""), .text(""), .blob([]), .text("blob"), .null])
        #expect(rows[1] == [.text(long), .null, .null, .text("s"), .text(long), .blob(Array(long.utf8)), .text("blob"), .null])
        #expect(rows[2][2] == .text("E-\(long.prefix(5))"))
        #expect(rows[2][7] == .text("buy"))
        #expect(rows[3] == [.null, .text("ZNZ6"), .null, .text("short"), .text("{}"), .text("[1]"), .text("text"), .null])
    }

    @Test func closedJournalRefusesWork() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        journal.close()
        journal.close()
        let error = #expect(throws: JournalError.self) { try journal.append([EventFixtures.fill("E1")]) }
        #expect(error?.code == "closed")
        #expect(throws: JournalError.self) { _ = try journal.events(after: 0, limit: 1) }
    }
}
