import CSQLite

/// A failure reported by SQLite, with its own result codes and message so callers can tell a
/// busy database from a corrupt one without parsing text.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CORRUPT`, …).
    public var code: Int32
    /// The extended result code (`SQLITE_BUSY_SNAPSHOT`, `SQLITE_IOERR_FSYNC`, …).
    public var extendedCode: Int32
    public var message: String
    /// The statement that failed, when there was one.
    public var sql: String?

    public init(code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil) {
        self.code = code & 0xff
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.sql = sql
    }

    /// Reads the error state of a connection right after a call returned `resultCode`.
    init(resultCode: Int32, connection: OpaquePointer?, sql: String? = nil) {
        let message: String
        if let connection, let text = sqlite3_errmsg(connection) {
            message = String(cString: text)
        } else {
            message = String(cString: sqlite3_errstr(resultCode))
        }
        let extended = connection.map { sqlite3_extended_errcode($0) } ?? resultCode
        // sqlite3_extended_errcode reports the connection's last error; trust it only when it agrees.
        self.init(code: resultCode, extendedCode: (extended & 0xff) == (resultCode & 0xff) ? extended : resultCode,
                  message: message, sql: sql)
    }

    public var description: String {
        var text = "SQLite error \(code) (extended \(extendedCode)): \(message)"
        if let sql { text += " [\(sql)]" }
        return text
    }
}
