import Synchronization
import TestSupport
import Testing
@testable import Journal

/// Incremental checkpoints (schema v6): each stores only the fill-log segments since the previous
/// one; a checkpoint is read as its own pieces followed by the log it stands on.
@Suite struct CheckpointFillLogTests {
    private func segment(_ seq: Int64, first: Int64, count: Int64) -> CheckpointPiece {
        CheckpointPiece(seq: seq, logSegment: .init(first: first, count: count), bytes: (0..<count).map { UInt8(first + $0) })
    }

    private func head(_ seq: Int64, fills: Int64, bytes: [UInt8] = [0xAA, 0xBB]) -> [CheckpointPiece] {
        CheckpointPiece.split(seq: seq, state: bytes, pieceBytes: 1 << 20, fillCount: fills)
    }

    /// Each piece committed with one event, the way the writer stores them.
    private func store(_ pieces: [CheckpointPiece], in journal: Journal, prefix: String) throws {
        for (number, piece) in pieces.enumerated() {
            try journal.append([EventFixtures.fill("\(prefix)\(number)")], audit: [], cursors: [], checkpointPieces: [piece])
        }
    }

    private func logRows(_ path: String) throws -> [Int64] {
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        var firsts: [Int64] = []
        try connection.query("SELECT first FROM checkpoint_fills ORDER BY first") { firsts.append($0.int64(at: 0)) }
        return firsts
    }

    @Test func aCheckpointIsReadAsItsOwnBytesFollowedByTheLogItStandsOn() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try store([segment(1, first: 0, count: 3), segment(1, first: 3, count: 2)] + head(1, fills: 5), in: journal, prefix: "A")
        let first = try #require(try journal.latestCheckpoint())
        #expect(first.seq == 1 && first.fillCount == 5 && first.state == [0xAA, 0xBB, 0, 1, 2, 3, 4])
        // The next checkpoint adds only what is new; the older one still reads its own prefix.
        try store([segment(4, first: 5, count: 2)] + head(4, fills: 7, bytes: [0xCC]), in: journal, prefix: "B")
        #expect(try journal.latestCheckpoint()?.state == [0xCC, 0, 1, 2, 3, 4, 5, 6])
        #expect(try journal.checkpoint(atOrBefore: 3)?.state == [0xAA, 0xBB, 0, 1, 2, 3, 4])
    }

    @Test func aLogSegmentAloneChangesNothingVisibleAndAnUnfinishedOneIsRewritten() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        let journal = try Journal(JournalOptions(path: path))
        try store([segment(1, first: 0, count: 2)] + head(1, fills: 2), in: journal, prefix: "A")
        // A checkpoint that stopped after two of its segments (a crash): the one before stays in force.
        try store([segment(3, first: 2, count: 2), segment(3, first: 4, count: 2)], in: journal, prefix: "B")
        #expect(try journal.latestCheckpoint()?.seq == 1)
        #expect(try journal.latestCheckpoint()?.state == [0xAA, 0xBB, 0, 1])
        #expect(try logRows(path) == [0, 2, 4])
        // The next run starts from fill 2 again, cut differently: the leftovers go with the first segment.
        try store([segment(5, first: 2, count: 3), segment(5, first: 5, count: 2)] + head(5, fills: 7), in: journal, prefix: "C")
        #expect(try logRows(path) == [0, 2, 5])
        #expect(try journal.latestCheckpoint()?.state == [0xAA, 0xBB, 0, 1, 2, 3, 4, 5, 6])
    }

    @Test func aLogWithAGapOrShortOfTheCheckpointIsReportedNotReadShort() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        let journal = try Journal(JournalOptions(path: path))
        try store([segment(1, first: 0, count: 2), segment(1, first: 2, count: 2)] + head(1, fills: 4), in: journal, prefix: "A")
        let connection = try SQLiteConnection(path: path)
        try connection.run("DELETE FROM checkpoint_fills WHERE first = 2")
        connection.close()
        let error = #expect(throws: JournalError.self) { try journal.latestCheckpoint() }
        #expect(error?.code == "corrupt")
        try store([segment(4, first: 3, count: 1)] + head(4, fills: 4), in: journal, prefix: "B")
        #expect(throws: JournalError.self) { try journal.latestCheckpoint() }
    }

    @Test func anEmptyOrNegativeSegmentIsRefusedAndNothingOfItsCommitIsStored() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        let error = #expect(throws: JournalError.self) {
            try journal.append([EventFixtures.fill("E1")], audit: [], cursors: [],
                               checkpointPieces: [CheckpointPiece(seq: 0, logSegment: .init(first: 0, count: 0), bytes: [])])
        }
        #expect(error?.code == "invalid")
        #expect(journal.lastSeq == 0)
    }

    /// A v5 file (pieced checkpoints that hold their fills) migrates to v6 with a notice first,
    /// and its checkpoint is still read; a fresh file migrates without one.
    @Test func aVersion5JournalMigratesWithANoticeAndItsCheckpointIsStillRead() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("v5.db")
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA journal_mode=WAL")
            for version in 0..<5 { for sql in JournalSchema.migrations[version] { try connection.execute(sql) } }
            try connection.execute("PRAGMA user_version = 5")
            try connection.run("INSERT INTO meta (key, value) VALUES ('epoch', '0011223344556677'), ('created_at', '42')")
            try connection.run("""
                INSERT INTO events (seq, kind, account, instrument, exec_id, time, source, payload, deltas, committed_at)
                VALUES (1, 'mark', NULL, 'ZNZ6', NULL, 12, 'feed', '{}', X'', 13)
                """)
            try connection.run("INSERT INTO checkpoint_parts (seq, part, bytes) VALUES (1, 0, X'0102'), (1, 1, X'03')")
            try connection.run("INSERT INTO checkpoints (seq, state, created_at, parts, size) VALUES (1, X'', 14, 2, 3)")
            connection.close()
        }
        let notices = NoticeLog()
        var options = JournalOptions(path: path)
        options.migrationNotice = { notices.add($0) }
        let journal = try Journal(options)
        #expect(journal.schemaVersion == JournalSchema.currentVersion)
        #expect(notices.lines == ["journal: migrating schema v5 → v\(JournalSchema.currentVersion), 1 events, in one transaction"])
        #expect(try journal.latestCheckpoint() == Checkpoint(seq: 1, state: [1, 2, 3], createdAt: 14))
        journal.close()

        let fresh = NoticeLog()
        var freshOptions = JournalOptions(path: directory.file("fresh.db"))
        freshOptions.migrationNotice = { fresh.add($0) }
        try Journal(freshOptions).close()
        #expect(fresh.lines.isEmpty)
    }
}

private final class NoticeLog: Sendable {
    private let stored = Mutex<[String]>([])
    func add(_ line: String) { stored.withLock { $0.append(line) } }
    var lines: [String] { stored.withLock { $0 } }
}
