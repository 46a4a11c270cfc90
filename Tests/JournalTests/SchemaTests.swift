import TestSupport
import Foundation
import Testing
@testable import Journal

@Suite struct SchemaTests {
    /// Builds a file exactly as the first release wrote it.
    private func makeVersion1File(at path: String) throws {
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        try connection.execute("PRAGMA journal_mode=WAL")
        for sql in JournalSchema.migrations[0] { try connection.execute(sql) }
        try connection.execute("PRAGMA user_version = 1")
        try connection.run("INSERT INTO meta (key, value) VALUES ('epoch', '00112233aabbccdd'), ('created_at', '42')")
        try connection.run("""
            INSERT INTO events (seq, kind, account, instrument, exec_id, time, source, payload, deltas, committed_at)
            VALUES (1, 'fill', 'ACC1', 'ZNZ6', 'OLD1', 10, 'feed', '{}', '[]', 11),
                   (2, 'mark', NULL, 'ZNZ6', NULL, 12, 'feed', '{}', '[]', 13)
            """)
        try connection.run("""
            INSERT INTO fills (exec_id, seq, account, instrument, side, qty, price, price_units, time, source, status)
            VALUES ('OLD1', 1, 'ACC1', 'ZNZ6', 'buy', 2, '110-08', 28224, 10, 'feed', 'live')
            """)
        try connection.run("INSERT INTO audit (time, actor, action, detail) VALUES (5, 'admin', 'token_add', 'viewer1')")
    }

    @Test func version1FileIsMigratedKeepingItsRows() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("v1.db")
        try makeVersion1File(at: path)

        let journal = try Journal(JournalOptions(path: path))
        #expect(journal.schemaVersion == 3)
        #expect(journal.epoch == "00112233aabbccdd")
        #expect(journal.createdAt == 42)
        #expect(journal.lastSeq == 2)
        #expect(try journal.allExecIds() == ["OLD1": 1])
        #expect(try journal.fills(account: "ACC1", instrument: "ZNZ6", since: nil, limit: 10).map(\.qty) == [2])
        #expect(try journal.auditEntries(limit: 10) == [AuditEntry(time: 5, actor: "admin", action: "token_add", detail: "viewer1")])
        // The v2 column works and seqs continue.
        try journal.append([EventFixtures.fill("NEW1")], audit: [AuditEntry(time: 6, actor: "feed", action: "ingest", detail: "NEW1", seq: 3)])
        #expect(try journal.auditEntries(limit: 1).first?.seq == 3)
        // The v3 table keeps order versions.
        var order = EventFixtures.fill("NEW2")
        order.fill = nil
        order.kind = "order"
        order.orderVersion = OrderVersion(orderId: "O1", version: 1)
        try journal.append([order], audit: [])
        #expect(try journal.allOrderVersions() == [OrderVersion(orderId: "O1", version: 1): 4])
        journal.close()

        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        #expect(try connection.scalar("PRAGMA user_version") == .integer(3))
        #expect(try connection.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'fills_by_account_instrument'") == .integer(1))
    }

    @Test func readOnlyOpenOfAnOldFileAsksForAMigration() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("v1.db")
        try makeVersion1File(at: path)
        var options = JournalOptions(path: path)
        options.readOnly = true
        let error = #expect(throws: JournalError.self) { _ = try Journal(options) }
        #expect(error?.code == "old_schema")
    }

    @Test func newerSchemaIsRefusedWithoutWriting() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("future.db")
        do {
            let journal = try Journal(JournalOptions(path: path))
            try journal.append([EventFixtures.fill("E1")])
            journal.close()
            let connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA user_version = 99")
            connection.close()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        let error = #expect(throws: JournalError.self) { _ = try Journal(JournalOptions(path: path)) }
        #expect(error?.code == "newer_schema")
        #expect(error?.message.contains(path) == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        #expect(try connection.scalar("PRAGMA user_version") == .integer(99))
        #expect(try connection.scalar("SELECT count(*) FROM events") == .integer(1))
    }

    @Test func migrationsAreOrderedAndEachVersionHasSteps() {
        #expect(JournalSchema.currentVersion == JournalSchema.migrations.count)
        #expect(JournalSchema.migrations.allSatisfy { !$0.isEmpty })
    }
}
