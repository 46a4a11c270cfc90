import CSQLite

/// Everything the Journal can fail with. `code` is stable and meant for programs; `message` is
/// for people and always names the database file.
///
/// Codes: `corrupt` (not a database, or damaged), `locked` (another connection holds the lock past
/// the busy timeout), `newer_schema` (written by a newer Ladderwire), `old_schema` (read-only open
/// of a file that needs migrating), `missing` (read-only open of a file that does not exist),
/// `readonly` (the file or its directory cannot be written), `io` (disk or OS failure), `full`
/// (disk full), `constraint` (a row broke a uniqueness rule, e.g. a duplicate execId),
/// `not_found` (a bust or correction names an unknown fill), `conflict` (another process appended
/// to the same file), `invalid` (a bad argument), `exists` (a backup target already exists),
/// `closed` (used after close), `sqlite` (anything else).
public struct JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    /// SQLite's extended result code, when SQLite reported the failure.
    public var sqliteCode: Int32?

    public init(code: String, message: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String { "journal \(code): \(message)" }

    /// Maps a SQLite failure on the file at `path` to a Journal code.
    init(_ error: SQLiteError, path: String, doing activity: String) {
        let code: String
        switch error.code {
        case SQLITE_BUSY, SQLITE_LOCKED: code = "locked"
        case SQLITE_CORRUPT, SQLITE_NOTADB: code = "corrupt"
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH: code = "readonly"
        case SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_NOLFS, SQLITE_PROTOCOL: code = "io"
        case SQLITE_FULL: code = "full"
        case SQLITE_CONSTRAINT: code = "constraint"
        default: code = "sqlite"
        }
        let hint: String
        switch code {
        case "locked": hint = " (another process holds the database lock)"
        case "corrupt": hint = " (the file is not a valid Ladderwire journal or is damaged)"
        default: hint = ""
        }
        self.init(code: code, message: "\(activity) \(path): \(error.message)\(hint)",
                  sqliteCode: error.extendedCode)
    }
}
