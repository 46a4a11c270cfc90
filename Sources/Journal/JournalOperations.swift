import CSQLite
import Foundation

/// What the operator commands read (`ladderwire backup`, `export`, `audit`, `db check`).
extension Journal {
    /// Copies the database to `target` (which must not exist) with SQLite's online backup API,
    /// `pagesPerStep` pages at a time, calling `progress(copied, total)` after each step. A read
    /// transaction is held on the source for the whole copy, so the copy is the database at one
    /// instant even while `serve` keeps committing (WAL: the writer is never blocked).
    public func onlineBackup(to target: String, pagesPerStep: Int32 = 4_096,
                             progress: (_ copied: Int, _ total: Int) -> Void = { _, _ in }) throws(JournalError) {
        let source = try openConnection()
        if FileManager.default.fileExists(atPath: target) {
            throw JournalError(code: "exists", message: "back up journal \(path): target \(target) already exists (choose a new file name)")
        }
        var destination: OpaquePointer?
        let opened = sqlite3_open_v2(target, &destination, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil)
        defer { sqlite3_close_v2(destination) }
        guard opened == SQLITE_OK, let destination else {
            let folder = (target as NSString).deletingLastPathComponent
            throw JournalError(code: "io", message: "cannot create backup file \(target) (the folder \(folder.isEmpty ? "." : folder) must exist and be writable)")
        }
        try guarded("back up journal") {
            try source.execute("BEGIN")
            defer { try? source.execute("COMMIT") }
            _ = try source.scalar("SELECT count(*) FROM meta")   // starts the read transaction: one snapshot
            guard let backup = sqlite3_backup_init(destination, "main", source.handle, "main") else {
                throw JournalError(code: "io", message: "back up journal \(path) to \(target): \(String(cString: sqlite3_errmsg(destination)))")
            }
            var result: Int32 = SQLITE_OK
            repeat {
                result = sqlite3_backup_step(backup, pagesPerStep)
                let total = Int(sqlite3_backup_pagecount(backup))
                progress(total - Int(sqlite3_backup_remaining(backup)), total)
                if result == SQLITE_BUSY || result == SQLITE_LOCKED { usleep(10_000) }
            } while result == SQLITE_OK || result == SQLITE_BUSY || result == SQLITE_LOCKED
            let finished = sqlite3_backup_finish(backup)
            guard result == SQLITE_DONE, finished == SQLITE_OK else {
                throw JournalError(code: "io", message: "back up journal \(path) to \(target): \(String(cString: sqlite3_errstr(result == SQLITE_DONE ? finished : result)))")
            }
        }
    }

    /// Fills stored with `time` in `[from, to)` (nanoseconds; nil = open), optionally of one
    /// account, oldest → newest by seq.
    public func fills(from: Int64?, to: Int64?, account: String?) throws(JournalError) -> [FillRow] {
        let db = try openConnection()
        return try guarded("read fills from journal") {
            var conditions = ["kind = 'fill'"]
            var values: [SQLiteValue] = []
            if let from { values.append(.integer(from)); conditions.append("time >= ?\(values.count)") }
            if let to { values.append(.integer(to)); conditions.append("time < ?\(values.count)") }
            if let account { values.append(.text(account)); conditions.append("account = ?\(values.count)") }
            let filter = "WHERE " + conditions.joined(separator: " AND ")
            var rows: [FillRow] = []
            try db.query("""
                SELECT \(FillRow.selectColumns)
                FROM events \(filter) ORDER BY seq
                """, values) { row in
                rows.append(FillRow(selected: row))
            }
            return rows
        }
    }

    /// Audit entries with `time` in `[from, to)` and, when given, the one `action`, oldest first.
    public func auditEntries(from: Int64?, to: Int64?, action: String?) throws(JournalError) -> [AuditEntry] {
        let db = try openConnection()
        return try guarded("read audit trail from journal") {
            var conditions: [String] = []
            var values: [SQLiteValue] = []
            if let from { values.append(.integer(from)); conditions.append("time >= ?\(values.count)") }
            if let to { values.append(.integer(to)); conditions.append("time < ?\(values.count)") }
            if let action { values.append(.text(action)); conditions.append("action = ?\(values.count)") }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            var entries: [AuditEntry] = []
            try db.query("SELECT time, actor, action, detail, seq FROM audit \(filter) ORDER BY id", values) { row in
                entries.append(AuditEntry(time: row.int64(at: 0), actor: row.string(at: 1), action: row.string(at: 2),
                                          detail: row.string(at: 3), seq: row.optionalInt64(at: 4)))
            }
            return entries
        }
    }

    /// Row counts the consistency check compares: events, fill events, fill events whose fill
    /// columns are all there (`fillRows`: a fill row is its event's row since schema v4, so the
    /// two differ only if something else wrote the file), checkpoints.
    public func counts() throws(JournalError) -> (events: Int, fillEvents: Int, fillRows: Int, checkpoints: Int) {
        let db = try openConnection()
        return try guarded("count journal rows") {
            func count(_ sql: String) throws -> Int {
                if case .integer(let n)? = try db.scalar(sql) { return Int(n) }
                return 0
            }
            return (try count("SELECT count(*) FROM events"), try count("SELECT count(*) FROM events WHERE kind = 'fill'"),
                    try count("""
                        SELECT count(*) FROM events WHERE kind = 'fill' AND side IS NOT NULL AND qty IS NOT NULL
                            AND price IS NOT NULL AND price_units IS NOT NULL AND status IS NOT NULL
                        """),
                    try count("SELECT count(*) FROM checkpoints"))
        }
    }

    /// The newest checkpoint at or before `seq`, if any.
    public func checkpoint(atOrBefore seq: Int64) throws(JournalError) -> Checkpoint? {
        let db = try openConnection()
        return try guarded("read checkpoint from journal") {
            try readCheckpoint("SELECT seq, state, created_at, parts, size, fills FROM checkpoints WHERE seq <= ?1 ORDER BY seq DESC LIMIT 1",
                               [.integer(seq)], db: db)
        }
    }
}
