import Bytes
import CSQLite
import Foundation

/// Opening a journal: directories, the connection, WAL and durability, schema checks and
/// migrations, the epoch. Everything here either yields a ready journal or a clear error.
extension Journal {
    struct OpenedState {
        var version: Int
        var epoch: String
        var createdAt: Int64
        var lastSeq: Seq
    }

    static func openConnection(_ options: JournalOptions) throws(JournalError) -> SQLiteConnection {
        let path = options.path
        guard !path.isEmpty else {
            throw JournalError(code: "invalid", message: "journal path is empty")
        }
        let fileManager = FileManager.default
        let directory = (path as NSString).deletingLastPathComponent
        let exists = fileManager.fileExists(atPath: path)
        if options.readOnly {
            guard exists else {
                throw JournalError(code: "missing", message: "cannot open journal \(path) read-only: the file does not exist")
            }
        } else if !directory.isEmpty && !fileManager.fileExists(atPath: directory) {
            do {
                try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                let denied = [CocoaError.fileWriteNoPermission, .fileWriteVolumeReadOnly].contains((error as? CocoaError)?.code)
                throw JournalError(code: denied ? "readonly" : "io",
                                   message: "cannot create directory \(directory) for journal \(path): \(error.localizedDescription)")
            }
        }
        do {
            return try SQLiteConnection(path: path, mode: .init(readOnly: options.readOnly, create: true),
                                        busyTimeoutMilliseconds: options.busyTimeoutMilliseconds, vfs: options.vfs)
        } catch {
            let folder = directory.isEmpty ? "." : directory
            if error.code == SQLITE_CANTOPEN || error.code == SQLITE_READONLY || error.code == SQLITE_PERM {
                let writable = access(folder, W_OK) == 0
                throw JournalError(code: writable ? "io" : "readonly",
                                   message: "cannot open journal \(path): \(error.message) (directory \(folder) must exist and be writable)",
                                   sqliteCode: error.extendedCode)
            }
            throw JournalError(error, path: path, doing: "cannot open journal")
        }
    }

    static func prepareSchema(_ db: SQLiteConnection, _ options: JournalOptions) throws(JournalError) -> OpenedState {
        let path = options.path
        try mapped(path, "cannot configure journal") {
            // Negative cache_size is in KiB. Keeps the hot index pages of a large journal in memory.
            try db.execute("PRAGMA cache_size=-\(max(256, options.cacheKiB))")
        }
        // Read the version before anything writes: a newer file must stay untouched.
        let version = try mapped(path, "cannot read journal") { try userVersion(db) }
        let current = JournalSchema.currentVersion
        if version > current {
            throw JournalError(code: "newer_schema", message:
                "journal \(path) has schema version \(version), newer than this Ladderwire understands (\(current)); refusing to open it, nothing was written")
        }
        if version == 0 {
            let tables = try mapped(path, "cannot read journal") { try db.scalar("SELECT count(*) FROM sqlite_master") }
            if case .integer(let count)? = tables, count > 0 {
                throw JournalError(code: "not_journal", message:
                    "\(path) is a SQLite database but not a Ladderwire journal (it has tables and no schema version)")
            }
        }
        if options.readOnly {
            if version < current {
                throw JournalError(code: "old_schema", message:
                    "journal \(path) has schema version \(version) and needs migrating to \(current); open it read-write once first")
            }
        } else {
            try mapped(path, "cannot configure journal") {
                let mode = try db.scalar("PRAGMA journal_mode=WAL")
                guard mode == .text("wal") else {
                    throw JournalError(code: "io", message: "cannot switch journal \(path) to WAL mode (got \(String(describing: mode)))")
                }
                try db.execute(options.durability == .full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
                // A larger WAL between automatic checkpoints: each checkpoint fsyncs the database, and
                // pages rewritten many times between two checkpoints are copied back only once.
                let pages = max(0, options.walAutocheckpointPages)
                try db.execute("PRAGMA wal_autocheckpoint=\(pages)")
                // After a checkpoint the WAL restarts from its top and commits overwrite blocks the
                // file already has; only a WAL that grew past twice its usual size is cut back.
                try db.execute("PRAGMA journal_size_limit=\(Int64(max(pages, 10_000)) * 4_096 * 2)")
            }
            reuseFiles(db)
            if version < current {
                try mapped(path, "cannot migrate journal") { try migrate(db, notice: options.migrationNotice) }
            }
        }
        return try mapped(path, "cannot read journal") {
            let meta = try readMeta(db)
            guard let epoch = meta["epoch"], let created = meta["created_at"].flatMap({ Int64($0) }) else {
                throw JournalError(code: "corrupt", message: "journal \(path) has no epoch in its meta table")
            }
            return OpenedState(version: try userVersion(db), epoch: epoch, createdAt: created, lastSeq: try maxSeq(db))
        }
    }

    /// How many bytes the database file grows by at a time.
    static let databaseChunkBytes: Int32 = 1 << 20

    /// File reuse, so that writing seldom asks the file system for new blocks:
    /// - `SQLITE_FCNTL_PERSIST_WAL`: the `-wal` file stays when the last connection closes (empty
    ///   after its final checkpoint) instead of being deleted and created again by the next open,
    ///   with its owner and 0600 mode; read-only tools can open the journal while no writer runs.
    /// - `SQLITE_FCNTL_CHUNK_SIZE`: the database file grows by whole chunks (the checkpoints that
    ///   copy the WAL back allocate one extent per MiB, not a block per page).
    /// The WAL itself is reused by its restart from the top after each checkpoint (above).
    /// Both are hints: a VFS that does not know them returns an error, which changes nothing.
    static func reuseFiles(_ db: SQLiteConnection) {
        var persist: Int32 = 1
        _ = sqlite3_file_control(db.handle, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
        var chunk = databaseChunkBytes
        _ = sqlite3_file_control(db.handle, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk)
    }

    /// Runs `body`, turning what it throws into a JournalError naming `path`.
    static func mapped<T>(_ path: String, _ activity: String, _ body: () throws -> T) throws(JournalError) -> T {
        do {
            return try body()
        } catch let error as JournalError {
            throw error
        } catch let error as SQLiteError {
            if error.code == SQLITE_CANTOPEN || error.code == SQLITE_READONLY {
                let folder = (path as NSString).deletingLastPathComponent
                throw JournalError(code: "readonly",
                                   message: "\(activity) \(path): \(error.message) (the file and directory \(folder.isEmpty ? "." : folder) must be writable: WAL needs its -wal and -shm files)",
                                   sqliteCode: error.extendedCode)
            }
            throw JournalError(error, path: path, doing: activity)
        } catch {
            throw JournalError(code: "sqlite", message: "\(activity) \(path): \(error)")
        }
    }

    /// Runs the missing migration steps and stamps the epoch, all in one transaction.
    static func migrate(_ db: SQLiteConnection, notice: (@Sendable (String) -> Void)? = nil) throws {
        try db.transaction {
            // Re-read under the write lock: another process may have migrated meanwhile.
            let from = try userVersion(db)
            let steps = JournalSchema.migrations
            guard from < steps.count else { return }
            if from > 0, let notice {
                let events = try maxSeq(db)
                let slow = from < 4 && events > 100_000
                notice("journal: migrating schema v\(from) → v\(steps.count), \(events) events, in one transaction"
                       + (slow ? " (one time; copying every fill into its event row takes ~25 s per million fills)" : ""))
            }
            for version in from..<steps.count {
                for sql in steps[version] { try db.execute(sql) }
            }
            try db.execute("PRAGMA user_version = \(steps.count)")
            try db.run("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?1)", [.text(newEpoch())])
            try db.run("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?1)", [.text(String(wallClockNanos()))])
        }
    }

    static func userVersion(_ db: SQLiteConnection) throws -> Int {
        if case .integer(let version)? = try db.scalar("PRAGMA user_version") { return Int(version) }
        return 0
    }

    static func readMeta(_ db: SQLiteConnection) throws -> [String: String] {
        var meta: [String: String] = [:]
        try db.query("SELECT key, value FROM meta") { row in meta[row.string(at: 0)] = row.string(at: 1) }
        return meta
    }

    /// 16 lowercase hex digits from the system's secure generator.
    static func newEpoch() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
