import CSQLite

/// The text and blob parameters of one statement, copied once into a buffer that is reused from
/// row to row and bound without SQLite copying each of them again.
///
/// `sqlite3_bind_text` with `SQLITE_TRANSIENT` allocates and copies every value: ~4,400
/// instructions per single-fill commit for the event row's ten strings and blobs (callgrind,
/// `sqlite3VdbeMemSetStr`). Here they are appended to one array and bound `SQLITE_STATIC` for the
/// duration of `withBindings`, which is where the statement must be stepped: SQLite reads a
/// static parameter only while stepping, and the statement's owner binds every parameter again
/// before stepping it the next time.
struct BindingArena {
    private var bytes: [UInt8] = []
    private var parameters: [(index: Int32, offset: Int, count: Int, isBlob: Bool)] = []

    init(reservingCapacity capacity: Int = 4_096) {
        bytes.reserveCapacity(capacity)
        parameters.reserveCapacity(16)
    }

    /// Forgets the previous row's values (keeping the room).
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        parameters.removeAll(keepingCapacity: true)
    }

    mutating func text(_ value: String, at index: Int32) {
        let offset = bytes.count
        bytes.append(contentsOf: value.utf8)
        parameters.append((index, offset, bytes.count - offset, false))
    }

    mutating func blob(_ value: [UInt8], at index: Int32) {
        let offset = bytes.count
        bytes.append(contentsOf: value)
        parameters.append((index, offset, value.count, true))
    }

    /// Binds every value added since `removeAll` to `statement` and runs `body` (the step) while
    /// the bytes cannot move.
    func withBindings<T>(on statement: SQLiteStatement, _ body: () throws -> T) throws -> T {
        try bytes.withUnsafeBytes { storage throws -> T in
            for parameter in parameters {
                try statement.bindStatic(storage.baseAddress.map { $0 + parameter.offset }, count: parameter.count,
                                         isBlob: parameter.isBlob, at: parameter.index)
            }
            return try body()
        }
    }
}
