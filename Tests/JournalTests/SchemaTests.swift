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
        #expect(journal.schemaVersion == JournalSchema.currentVersion)
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
        #expect(try connection.scalar("PRAGMA user_version") == .integer(Int64(JournalSchema.currentVersion)))
        #expect(try connection.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'events_fills'") == .integer(1))
    }

    /// Builds a file exactly as schema v3 wrote it: fills in their own table with four indexes,
    /// each event's messages as JSON, a busted and a corrected fill, a mark, an order version.
    private func makeVersion3File(at path: String, fills: Int) throws -> [FillRow] {
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        try connection.execute("PRAGMA journal_mode=WAL")
        for step in JournalSchema.migrations[0..<3] {
            for sql in step { try connection.execute(sql) }
        }
        try connection.execute("PRAGMA user_version = 3")
        try connection.run("INSERT INTO meta (key, value) VALUES ('epoch', 'feedfacefeedface'), ('created_at', '7')")
        var rows: [FillRow] = []
        try connection.transaction {
            for n in 1...fills {
                let account = "ACC\(n % 3 + 1)", instrument = ["ZNZ6", "ZBZ6"][n % 2], execId = "V3-\(n)"
                try connection.run("""
                    INSERT INTO events (seq, kind, account, instrument, exec_id, time, source, payload, deltas, committed_at)
                    VALUES (?1, 'fill', ?2, ?3, ?4, ?5, 'feed', ?6, ?7, ?5)
                    """, [.integer(Int64(n)), .text(account), .text(instrument), .text(execId), .integer(Int64(n) * 10),
                          .text(#"{"type":"fill","execId":"\#(execId)"}"#), .text(#"[{"type":"fill","execId":"\#(execId)","seq":\#(n)}]"#)])
                var row = FillRow(execId: execId, account: account, instrument: instrument, side: n % 2 == 0 ? "buy" : "sell",
                                  qty: Int64(n % 7 + 1), price: "110-0\(n % 8)", priceUnits: 11_000_000_000 + Int64(n),
                                  time: Int64(n) * 10, source: "feed", seq: Int64(n))
                if n == 2 { row.status = "busted" }
                if n == 3 { row.status = "corrected"; row.originalQty = 9; row.originalPrice = "110-31"; row.qty = 1 }
                try connection.run("""
                    INSERT INTO fills (exec_id, seq, account, instrument, side, qty, price, price_units, time, source, status, orig_qty, orig_price)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                    """, [.text(row.execId), .integer(row.seq), .text(row.account), .text(row.instrument), .text(row.side),
                          .integer(row.qty), .text(row.price), .integer(row.priceUnits), .integer(row.time), .text(row.source),
                          .text(row.status), SQLiteValue(row.originalQty), SQLiteValue(row.originalPrice)])
                rows.append(row)
            }
            let next = Int64(fills + 1)
            try connection.run("""
                INSERT INTO events (seq, kind, account, instrument, exec_id, time, source, payload, deltas, committed_at)
                VALUES (?1, 'mark', NULL, 'ZNZ6', NULL, 1, 'feed', '{"type":"mark"}', '[{"type":"mark"}]', 1),
                       (?2, 'order', 'ACC1', 'ZNZ6', NULL, 1, 'feed', '{"type":"order"}', '[]', 1)
                """, [.integer(next), .integer(next + 1)])
            try connection.run("INSERT INTO order_versions (order_id, version, seq) VALUES ('O1', 1, ?1)", [.integer(next + 1)])
            try connection.run("INSERT INTO marks (instrument, price, price_units, time, seq) VALUES ('ZNZ6', '110-16', 1, 1, ?1)", [.integer(next)])
        }
        return rows
    }

    @Test func version3FileIsMigratedToOneRowPerEventKeepingEveryFillAndEvent() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("v3.db")
        let fills = 500
        let rows = try makeVersion3File(at: path, fills: fills)
        let events: [EventRecord]
        do {
            let connection = try SQLiteConnection(path: path)
            defer { connection.close() }
            var read: [EventRecord] = []
            try connection.query("SELECT seq, kind, account, instrument, exec_id, time, source, payload, deltas, committed_at FROM events ORDER BY seq") { row in
                read.append(EventRecord(seq: row.int64(at: 0), kind: row.string(at: 1), account: row.optionalString(at: 2),
                                        instrument: row.optionalString(at: 3), execId: row.optionalString(at: 4), time: row.int64(at: 5),
                                        source: row.string(at: 6), payload: row.string(at: 7), deltas: .json(row.string(at: 8)),
                                        committedAt: row.int64(at: 9)))
            }
            events = read
        }

        let journal = try Journal(JournalOptions(path: path))
        #expect(journal.schemaVersion == JournalSchema.currentVersion)
        #expect(journal.epoch == "feedfacefeedface")
        #expect(journal.lastSeq == Int64(fills + 2))
        // Every event reads back as written, its JSON deltas included.
        #expect(try journal.events(after: 0, limit: 10_000) == events)
        // Every fill, field for field, from each way fills are read.
        #expect(try journal.fills(account: nil, instrument: nil, since: 0, limit: 10_000) == rows)
        #expect(try journal.fills(from: nil, to: nil, account: nil) == rows)
        for row in rows where row.seq % 50 == 3 { #expect(try journal.fill(execId: row.execId) == row) }
        #expect(try journal.fill(execId: "V3-3")?.originalPrice == "110-31")
        #expect(try journal.allExecIds() == Dictionary(uniqueKeysWithValues: rows.map { ($0.execId, $0.seq) }))
        #expect(try journal.allOrderVersions() == [OrderVersion(orderId: "O1", version: 1): Int64(fills + 2)])
        for account in ["ACC1", "ACC2", "ACC3"] {
            #expect(try journal.fills(account: account, instrument: nil, since: 0, limit: 10_000) == rows.filter { $0.account == account })
            #expect(try journal.fills(account: account, instrument: "ZBZ6", since: nil, limit: 10_000)
                    == rows.filter { $0.account == account && $0.instrument == "ZBZ6" })
        }
        let counts = try journal.counts()
        #expect(counts.fillEvents == fills && counts.fillRows == fills)

        // New fills append after the old ones; a bust of a migrated fill finds its row.
        try journal.append([EventFixtures.fill("NEW1", account: "ACC2", instrument: "ZBZ6")])
        var bust = EventFixtures.bust("V3-10")
        bust.fillStatus?.fillSeq = 10
        try journal.append([bust])
        #expect(try journal.fill(execId: "V3-10")?.status == "busted")
        #expect(try journal.fills(account: "ACC2", instrument: nil, since: nil, limit: 2).map(\.execId)
                == [rows.last { $0.account == "ACC2" }!.execId, "NEW1"])
        journal.close()

        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        #expect(try connection.scalar("PRAGMA user_version") == .integer(Int64(JournalSchema.currentVersion)))
        var objects: [String] = []
        try connection.query("SELECT type || ' ' || name FROM sqlite_master WHERE tbl_name IN ('events', 'fills') ORDER BY 1") { row in
            objects.append(row.string(at: 0))
        }
        // The old table and its four indexes are gone; one table, one index, a view for SQL readers.
        #expect(objects == ["index events_fills", "table events", "view fills"])
        #expect(try connection.scalar("SELECT count(*) FROM fills") == .integer(Int64(fills + 1)))
        #expect(try connection.scalar("SELECT status FROM fills WHERE exec_id = 'V3-3'") == .text("corrected"))
    }

    /// Each query that reads fills goes through the one index, not a scan of the event rows.
    @Test func fillQueriesUseTheFillIndex() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        let journal = try Journal(JournalOptions(path: path))
        try journal.append([EventFixtures.fill("E1")])
        journal.close()
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        func plan(_ sql: String) throws -> String {
            var lines: [String] = []
            try connection.query("EXPLAIN QUERY PLAN " + sql) { row in lines.append(row.string(at: 3)) }
            return lines.joined(separator: "; ")
        }
        typealias Query = Journal.FillIndexQuery
        // Whole-index reads: recovery's list and the count it reserves for.
        #expect(try plan(Query.execIds) == "SCAN events USING COVERING INDEX events_fills")
        #expect(try plan(Query.count) == "SCAN events USING COVERING INDEX events_fills")
        #expect(try plan(Query.seqs) == "SCAN events USING COVERING INDEX events_fills")
        // History: seeks, never a walk through a group's entries.
        let index = "SEARCH events USING COVERING INDEX events_fills"
        #expect(try plan(Query.groupSeqs(newestFirst: true)) == index + " (account=? AND instrument=? AND seq>?)")
        #expect(try plan(Query.groupSeqs(newestFirst: false)) == index + " (account=? AND instrument=? AND seq>?)")
        #expect(try plan(Query.firstInstrument) == index + " (account=?)")
        #expect(try plan(Query.nextInstrument) == index + " (account=? AND instrument>?)")
        #expect(try plan(Query.nextAccount) == index + " (account>?)")
    }
}
