import TestSupport
import Testing
@testable import Journal

/// Checkpoints stored a piece per commit (schema v5): visible only once whole, a half-stored one
/// never read, superseded pieces removed one per commit, v4 whole-blob checkpoints still read.
@Suite struct CheckpointPieceTests {
    private let stateA: [UInt8] = Array(0..<10)
    private let stateB: [UInt8] = (0..<11).map { UInt8(100 + $0) }

    private func partRows(_ path: String, seq: Int64? = nil) throws -> Int64 {
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        let sql = seq == nil ? "SELECT count(*) FROM checkpoint_parts" : "SELECT count(*) FROM checkpoint_parts WHERE seq = ?1"
        guard case .integer(let count)? = try connection.scalar(sql, seq.map { [.integer($0)] } ?? []) else { return -1 }
        return count
    }

    /// Stores each piece with one event, the way the writer does.
    private func storePieces(_ pieces: [CheckpointPiece], in journal: Journal, execIdPrefix: String) throws {
        for (number, piece) in pieces.enumerated() {
            try journal.append([EventFixtures.fill("\(execIdPrefix)\(number)")], audit: [], cursors: [], checkpointPieces: [piece])
        }
    }

    @Test func splitCutsIntoBoundedPiecesThatJoinBackAndKeepsAnEmptyStateAsOnePiece() {
        let pieces = CheckpointPiece.split(seq: 7, state: stateA, pieceBytes: 4)
        #expect(pieces.map(\.bytes.count) == [4, 4, 2])
        #expect(pieces.map(\.index) == [0, 1, 2] && pieces.allSatisfy { $0.count == 3 && $0.totalBytes == 10 && $0.seq == 7 })
        #expect(pieces.flatMap(\.bytes) == stateA)
        #expect(pieces.map(\.isLast) == [false, false, true])
        let empty = CheckpointPiece.split(seq: 1, state: [], pieceBytes: 4)
        #expect(empty.count == 1 && empty[0].bytes.isEmpty && empty[0].isLast)
    }

    @Test func aCheckpointBecomesVisibleOnlyInTheCommitOfItsLastPiece() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append([EventFixtures.fill("E1")], checkpoint: (seq: 1, state: stateA))
        let pieces = CheckpointPiece.split(seq: 1, state: stateB, pieceBytes: 4)
        try journal.append([EventFixtures.fill("E2")])
        let piecesOfTwo = pieces.map { piece -> CheckpointPiece in
            var moved = piece
            moved.seq = 2
            return moved
        }
        try storePieces(Array(piecesOfTwo.dropLast()), in: journal, execIdPrefix: "P")
        #expect(try journal.latestCheckpoint()?.seq == 1)
        #expect(try journal.latestCheckpoint()?.state == stateA)
        try storePieces([piecesOfTwo.last!], in: journal, execIdPrefix: "L")
        let latest = try #require(try journal.latestCheckpoint())
        #expect(latest.seq == 2 && latest.state == stateB)
        #expect(try journal.checkpoint(atOrBefore: 1)?.state == stateA)
    }

    @Test func aCrashInTheMiddleLeavesThePreviousCheckpointInForceAndItsPiecesAreRemovedLater() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        do {
            let journal = try Journal(JournalOptions(path: path))
            try journal.append([EventFixtures.fill("E1")], checkpoint: (seq: 1, state: stateA))
            // Two of three pieces of a newer checkpoint, then the process dies.
            let pieces = CheckpointPiece.split(seq: 2, state: stateB, pieceBytes: 4)
            try journal.append([EventFixtures.fill("E2")], audit: [], cursors: [], checkpointPieces: [pieces[0]])
            try journal.append([EventFixtures.fill("E3")], audit: [], cursors: [], checkpointPieces: [pieces[1]])
            journal.close()
        }
        #expect(try partRows(path, seq: 2) == 2)
        let reopened = try Journal(JournalOptions(path: path))
        let checkpoint = try #require(try reopened.latestCheckpoint())
        #expect(checkpoint.seq == 1 && checkpoint.state == stateA)
        // The unfinished pieces belong to no checkpoint: the next commits remove them, one each.
        #expect(reopened.checkpointCleanupPending)
        try reopened.append([EventFixtures.fill("E4")])
        #expect(try partRows(path, seq: 2) == 1)
        try reopened.append([EventFixtures.fill("E5")])
        try reopened.append([EventFixtures.fill("E6")])
        #expect(try partRows(path, seq: 2) == 0)
        #expect(!reopened.checkpointCleanupPending)
        #expect(try reopened.latestCheckpoint()?.state == stateA)
    }

    @Test func supersededCheckpointsLoseOnePiecePerCommitAndThePiecesBeingStoredAreKept() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        var options = JournalOptions(path: path)
        options.checkpointsKept = 1
        let journal = try Journal(options)
        try journal.append([EventFixtures.fill("E0")])
        try storePieces(CheckpointPiece.split(seq: 1, state: stateA, pieceBytes: 4), in: journal, execIdPrefix: "A")
        #expect(try partRows(path, seq: 1) == 3)
        // The next checkpoint's first pieces: the cleanup (nothing superseded yet) must not take them.
        let nextPieces = CheckpointPiece.split(seq: 4, state: stateB, pieceBytes: 4)
        try storePieces(Array(nextPieces.dropLast()), in: journal, execIdPrefix: "B")
        #expect(try partRows(path, seq: 4) == 2)
        try storePieces([nextPieces.last!], in: journal, execIdPrefix: "C")
        #expect(try journal.latestCheckpoint()?.state == stateB)
        #expect(try countRows("checkpoints", in: path) == 1)
        // Checkpoint 1 is superseded; its three pieces go one per commit, never all in one.
        #expect(try partRows(path, seq: 1) == 3)
        for remaining in [2, 1, 0] as [Int64] {
            try journal.append([], audit: [AuditEntry(time: 1, actor: "test", action: "tick", detail: "")], cursors: [],
                               checkpointPieces: [])
            #expect(try partRows(path, seq: 1) == remaining)
        }
        try journal.append([EventFixtures.fill("E9")])
        #expect(!journal.checkpointCleanupPending)
        #expect(try partRows(path, seq: 4) == 3)
    }

    @Test func aFailedCommitStoresNoPieceAndTheSamePieceCanBeStoredAgain() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append([EventFixtures.fill("E1")])
        let pieces = CheckpointPiece.split(seq: 1, state: stateA, pieceBytes: 4)
        try journal.append([], audit: [], cursors: [], checkpointPieces: [pieces[0]])
        // A bust of an unknown fill fails the commit: the piece goes with it.
        #expect(throws: JournalError.self) {
            try journal.append([EventFixtures.bust("NOPE")], audit: [], cursors: [], checkpointPieces: [pieces[1]])
        }
        #expect(try partRows(directory.file("j.db"), seq: 1) == 1)
        try journal.append([], audit: [], cursors: [], checkpointPieces: [pieces[1]])
        try journal.append([], audit: [], cursors: [], checkpointPieces: [pieces[2]])
        #expect(try journal.latestCheckpoint()?.state == stateA)
    }

    @Test func aCheckpointWithAMissingPieceIsReportedNotReadShort() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        let journal = try Journal(JournalOptions(path: path))
        try journal.append([EventFixtures.fill("E1")], checkpoint: (seq: 1, state: Array(repeating: 7, count: Journal.wholeCheckpointPieceBytes + 5)))
        let connection = try SQLiteConnection(path: path)
        try connection.run("DELETE FROM checkpoint_parts WHERE seq = 1 AND part = 0")
        connection.close()
        let error = #expect(throws: JournalError.self) { try journal.latestCheckpoint() }
        #expect(error?.code == "corrupt")
    }

    /// A v4 file: its checkpoints hold their whole blob. It is still read after the migration,
    /// and a pieced checkpoint supersedes it.
    @Test func aVersion4WholeBlobCheckpointIsReadAndSupersededAfterMigration() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("v4.db")
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA journal_mode=WAL")
            for version in 0..<4 { for sql in JournalSchema.migrations[version] { try connection.execute(sql) } }
            try connection.execute("PRAGMA user_version = 4")
            try connection.run("INSERT INTO meta (key, value) VALUES ('epoch', '0011223344556677'), ('created_at', '42')")
            try connection.run("""
                INSERT INTO events (seq, kind, account, instrument, exec_id, time, source, payload, deltas, committed_at)
                VALUES (1, 'mark', NULL, 'ZNZ6', NULL, 12, 'feed', '{}', X'', 13)
                """)
            try connection.run("INSERT INTO checkpoints (seq, state, created_at) VALUES (1, ?1, 14)", [.blob(stateA)])
            connection.close()
        }
        var options = JournalOptions(path: path)
        options.checkpointsKept = 1
        let journal = try Journal(options)
        #expect(journal.schemaVersion == JournalSchema.currentVersion)
        #expect(try journal.latestCheckpoint() == Checkpoint(seq: 1, state: stateA, createdAt: 14))
        try journal.append([EventFixtures.fill("E2")])
        try storePieces(CheckpointPiece.split(seq: 2, state: stateB, pieceBytes: 4), in: journal, execIdPrefix: "P")
        #expect(try journal.latestCheckpoint()?.state == stateB)
        #expect(try countRows("checkpoints", in: path) == 1)
    }
}
