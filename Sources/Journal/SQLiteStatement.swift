import CSQLite

/// One prepared statement. Parameters are 1-based and columns 0-based, as in SQLite.
/// Owned by its connection: it is finalized when the connection closes.
public final class SQLiteStatement {
    public let sql: String
    private(set) var handle: OpaquePointer?

    init(sql: String, handle: OpaquePointer) {
        self.sql = sql
        self.handle = handle
    }

    func finalize() {
        sqlite3_finalize(handle)
        handle = nil
    }

    // MARK: Binding

    public func bind(_ value: Int64, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    public func bind(_ value: Int64?, at index: Int32) throws(SQLiteError) {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    public func bind(_ value: String, at index: Int32) throws(SQLiteError) {
        var text = value
        // Explicit byte count so embedded NULs survive; SQLITE_TRANSIENT makes SQLite copy the
        // bytes before the closure's buffer goes away.
        let result = text.withUTF8 { bytes -> Int32 in
            guard let base = bytes.baseAddress else {
                return sqlite3_bind_text(handle, index, "", 0, SQLiteStatement.transient)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
                sqlite3_bind_text(handle, index, chars, Int32(bytes.count), SQLiteStatement.transient)
            }
        }
        try check(result)
    }

    public func bind(_ value: String?, at index: Int32) throws(SQLiteError) {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    public func bind(_ value: [UInt8], at index: Int32) throws(SQLiteError) {
        let result = value.withUnsafeBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                // A NULL pointer would bind NULL; an empty blob is a zero-length blob.
                return sqlite3_bind_zeroblob(handle, index, 0)
            }
            return sqlite3_bind_blob(handle, index, base, Int32(bytes.count), SQLiteStatement.transient)
        }
        try check(result)
    }

    /// A slice of a larger array (a checkpoint piece) without copying it into an array first.
    public func bind(_ value: ArraySlice<UInt8>, at index: Int32) throws(SQLiteError) {
        let result = value.withUnsafeBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return sqlite3_bind_zeroblob(handle, index, 0) }
            return sqlite3_bind_blob(handle, index, base, Int32(bytes.count), SQLiteStatement.transient)
        }
        try check(result)
    }

    public func bind(_ value: [UInt8]?, at index: Int32) throws(SQLiteError) {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    /// Binds bytes SQLite does not copy (`SQLITE_STATIC`): they must stay where they are until
    /// the statement has been stepped, and every such parameter must be bound again before the
    /// next step (`BindingArena` keeps both promises). Zero bytes bind an empty text or blob,
    /// never NULL.
    func bindStatic(_ start: UnsafeRawPointer?, count: Int, isBlob: Bool, at index: Int32) throws(SQLiteError) {
        guard count > 0, let start else {
            try check(isBlob ? sqlite3_bind_zeroblob(handle, index, 0)
                             : sqlite3_bind_text(handle, index, "", 0, SQLiteStatement.transient))
            return
        }
        if isBlob {
            try check(sqlite3_bind_blob(handle, index, start, Int32(count), SQLiteStatement.staticValue))
        } else {
            try check(sqlite3_bind_text(handle, index, start.assumingMemoryBound(to: CChar.self), Int32(count),
                                        SQLiteStatement.staticValue))
        }
    }

    public func bindNull(at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_null(handle, index))
    }

    public func bind(_ value: SQLiteValue, at index: Int32) throws(SQLiteError) {
        switch value {
        case .integer(let number): try bind(number, at: index)
        case .text(let text): try bind(text, at: index)
        case .blob(let bytes): try bind(bytes, at: index)
        case .null: try bindNull(at: index)
        }
    }

    /// Binds `values` to parameters 1, 2, … in order.
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    // MARK: Stepping

    /// Advances to the next row: true when a row is available, false when done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw error(result)
        }
    }

    /// Runs a statement that returns no rows, then resets it for reuse.
    public func run() throws(SQLiteError) {
        defer { reset() }
        while try step() {}
    }

    /// Makes the statement ready to run again with fresh bindings.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Reset for a caller that binds every parameter on each use: clearing 17 bindings cost
    /// ~1,500 instructions per event on the commit path.
    public func resetKeepingBindings() {
        sqlite3_reset(handle)
    }

    // MARK: Columns

    public var columnCount: Int32 { sqlite3_column_count(handle) }

    public func isNull(at column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    public func isBlob(at column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_BLOB
    }

    public func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    public func optionalInt64(at column: Int32) -> Int64? {
        isNull(at: column) ? nil : int64(at: column)
    }

    public func string(at column: Int32) -> String {
        // Ask for the text before its length: the conversion may change the byte count.
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    public func optionalString(at column: Int32) -> String? {
        isNull(at: column) ? nil : string(at: column)
    }

    public func bytes(at column: Int32) -> [UInt8] {
        guard let blob = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return [UInt8](UnsafeRawBufferPointer(start: blob, count: count))
    }

    /// Appends the column's bytes to `buffer` (one copy, where `bytes(at:)` + append makes two).
    public func appendBytes(at column: Int32, to buffer: inout [UInt8]) {
        guard let blob = sqlite3_column_blob(handle, column) else { return }
        let count = Int(sqlite3_column_bytes(handle, column))
        buffer.append(contentsOf: UnsafeRawBufferPointer(start: blob, count: count))
    }

    public func value(at column: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer(int64(at: column))
        case SQLITE_BLOB: return .blob(bytes(at: column))
        default: return .text(string(at: column))
        }
    }

    // MARK: Errors

    private func check(_ result: Int32) throws(SQLiteError) {
        if result != SQLITE_OK { throw error(result) }
    }

    private func error(_ result: Int32) -> SQLiteError {
        SQLiteError(resultCode: result, connection: sqlite3_db_handle(handle), sql: sql)
    }

    /// SQLITE_TRANSIENT: the C macro is a cast of -1 that Swift cannot import.
    private static var transient: sqlite3_destructor_type {
        unsafeBitCast(-1 as Int, to: sqlite3_destructor_type.self)
    }

    /// SQLITE_STATIC: a null destructor, SQLite neither copies nor frees the bytes.
    private static var staticValue: sqlite3_destructor_type? { nil }
}
