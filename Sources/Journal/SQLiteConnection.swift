import CSQLite

/// One SQLite connection, used by one thread at a time (opened NOMUTEX: no locking inside).
/// Statements prepared through `statement(_:)` are cached by their SQL text and live as long
/// as the connection.
public final class SQLiteConnection {
    public struct OpenMode: Sendable, Equatable {
        public var readOnly: Bool
        /// Create the file when it does not exist (ignored when read-only).
        public var create: Bool
        public init(readOnly: Bool = false, create: Bool = true) {
            self.readOnly = readOnly
            self.create = create
        }
    }

    public let path: String
    private(set) var handle: OpaquePointer?
    private var cache: [String: SQLiteStatement] = [:]
    /// Statements whose SQL is a literal, by the literal's address: the commit path's INSERT is
    /// ~300 bytes of SQL, and hashing it for every event cost ~2,000 instructions (callgrind).
    private var literalCache: [UInt: SQLiteStatement] = [:]

    /// Opens `path`. `busyTimeoutMilliseconds` bounds how long a statement waits for another
    /// connection's lock before failing with SQLITE_BUSY, so a held lock is an error, not a hang.
    /// `vfs` names a registered SQLite VFS (nil: the default); tests pass a fault-injecting one.
    public init(path: String, mode: OpenMode = OpenMode(), busyTimeoutMilliseconds: Int32 = 5_000,
                vfs: String? = nil) throws(SQLiteError) {
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if mode.readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE | (mode.create ? SQLITE_OPEN_CREATE : 0)
        }
        var opened: OpaquePointer?
        let result = sqlite3_open_v2(path, &opened, flags, vfs)
        guard result == SQLITE_OK, let opened else {
            let error = SQLiteError(resultCode: result, connection: opened)
            sqlite3_close_v2(opened)
            throw error
        }
        handle = opened
        sqlite3_extended_result_codes(opened, 1)
        sqlite3_busy_timeout(opened, busyTimeoutMilliseconds)
    }

    deinit { close() }

    public var isOpen: Bool { handle != nil }

    /// Finalizes every cached statement and closes. Safe to call twice.
    public func close() {
        for statement in cache.values { statement.finalize() }
        for statement in literalCache.values { statement.finalize() }
        cache.removeAll()
        literalCache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one or more statements that take no parameters (DDL, PRAGMA, BEGIN …).
    public func execute(_ sql: String) throws(SQLiteError) {
        let connection = try requireOpen(sql)
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(connection, sql, nil, nil, &message)
        if result != SQLITE_OK {
            let text = message.map { String(cString: $0) }
            sqlite3_free(message)
            var error = SQLiteError(resultCode: result, connection: connection, sql: sql)
            if let text { error.message = text }
            throw error
        }
    }

    /// The cached prepared statement for `sql`, reset and with no bindings.
    public func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let cached = cache[sql] { return cached }
        let statement = try prepare(sql, persistent: true)
        cache[sql] = statement
        return statement
    }

    /// Like `statement(_:)` for SQL written as a literal, found by its address instead of by
    /// hashing its text.
    public func statement(literal sql: StaticString) throws(SQLiteError) -> SQLiteStatement {
        let key = UInt(bitPattern: sql.utf8Start)
        if let cached = literalCache[key] { return cached }
        let statement = try prepare(sql.description, persistent: true)
        literalCache[key] = statement
        return statement
    }

    /// The pager's data version (`SQLITE_FCNTL_DATA_VERSION`): it changes whenever the file's
    /// content changes, through this connection or any other, and is read without a statement.
    public var dataVersion: UInt32 {
        var version: UInt32 = 0
        if let handle { _ = sqlite3_file_control(handle, "main", SQLITE_FCNTL_DATA_VERSION, &version) }
        return version
    }

    /// Runs `sql` once with `values` bound; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let statement = try statement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() {}
        return changes
    }

    /// Runs a query and hands each row to `row` while the statement is positioned on it.
    public func query(_ sql: String, _ values: [SQLiteValue] = [],
                      row: (SQLiteStatement) throws -> Void) throws {
        let statement = try statement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() { try row(statement) }
    }

    /// The first column of the first row, or nil when there is no row.
    public func scalar(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> SQLiteValue? {
        let statement = try statement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        return try statement.step() ? statement.value(at: 0) : nil
    }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT. IMMEDIATE takes the write lock up front, so a
    /// busy database fails at BEGIN instead of half-way through. Any error rolls back and rethrows.
    /// Both are cached prepared statements: `execute` would parse them again for every commit
    /// (~9,000 instructions per transaction, measured with callgrind).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try runLiteral("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try runLiteral("COMMIT")
            return result
        } catch {
            rollbackIfOpen()
            throw error
        }
    }

    private func runLiteral(_ sql: StaticString) throws(SQLiteError) {
        let statement = try statement(literal: sql)
        defer { statement.reset() }
        while try statement.step() {}
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { handle.map { Int(sqlite3_changes($0)) } ?? 0 }

    public var lastInsertRowID: Int64 { handle.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// False while a transaction is open.
    public var isAutocommit: Bool { handle.map { sqlite3_get_autocommit($0) != 0 } ?? true }

    // MARK: Private

    private func prepare(_ sql: String, persistent: Bool) throws(SQLiteError) -> SQLiteStatement {
        let connection = try requireOpen(sql)
        var prepared: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let result = sqlite3_prepare_v3(connection, sql, -1, flags, &prepared, nil)
        guard result == SQLITE_OK, let prepared else {
            sqlite3_finalize(prepared)
            throw SQLiteError(resultCode: result == SQLITE_OK ? SQLITE_MISUSE : result,
                              connection: connection, sql: sql)
        }
        return SQLiteStatement(sql: sql, handle: prepared)
    }

    private func requireOpen(_ sql: String) throws(SQLiteError) -> OpaquePointer {
        guard let handle else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "connection to \(path) is closed", sql: sql)
        }
        return handle
    }

    private func rollbackIfOpen() {
        // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL); a second
        // ROLLBACK would fail with "no transaction is active".
        if !isAutocommit { try? execute("ROLLBACK") }
    }
}
