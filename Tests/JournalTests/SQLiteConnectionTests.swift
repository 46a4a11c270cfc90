import TestSupport
import CSQLite
import Testing
@testable import Journal

@Suite struct SQLiteConnectionTests {
    @Test func bindsRoundTripExactly() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file("s.db"))
        try connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, s TEXT, b BLOB)")
        let values: [[SQLiteValue]] = [
            [.integer(Int64.max), .text("é\u{0}x"), .blob([0, 255, 0])],
            [.integer(Int64.min), .text(""), .blob([])],
            [.null, .null, .null],
        ]
        for row in values { try connection.run("INSERT INTO t (i, s, b) VALUES (?1, ?2, ?3)", row) }
        var read: [[SQLiteValue]] = []
        try connection.query("SELECT i, s, b FROM t ORDER BY id") { row in
            read.append([row.value(at: 0), row.value(at: 1), row.value(at: 2)])
        }
        #expect(read == values)
        var optionals: [String?] = []
        try connection.query("SELECT s FROM t ORDER BY id") { row in optionals.append(row.optionalString(at: 0)) }
        #expect(optionals == ["é\u{0}x", "", nil])
    }

    @Test func statementsAreCachedBySQLText() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file("s.db"))
        let first = try connection.statement("SELECT 1")
        let second = try connection.statement("SELECT 1")
        let other = try connection.statement("SELECT 2")
        #expect(first === second)
        #expect(first !== other)
    }

    @Test func transactionRollsBackWhenTheBodyThrows() throws {
        struct Stop: Error {}
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file("s.db"))
        try connection.execute("CREATE TABLE t (x INTEGER)")
        #expect(throws: Stop.self) {
            try connection.transaction {
                try connection.run("INSERT INTO t VALUES (1)")
                throw Stop()
            }
        }
        #expect(connection.isAutocommit)
        #expect(try connection.scalar("SELECT count(*) FROM t") == .integer(0))
        let value = try connection.transaction { () throws -> Int in
            try connection.run("INSERT INTO t VALUES (2)")
        }
        #expect(value == 1)
        #expect(try connection.scalar("SELECT count(*) FROM t") == .integer(1))
    }

    @Test func errorsCarrySQLiteCodesMessageAndSQL() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file("s.db"))
        try connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        try connection.run("INSERT INTO t VALUES (1)")
        let error = #expect(throws: SQLiteError.self) { try connection.run("INSERT INTO t VALUES (1)") }
        #expect(error?.code == SQLITE_CONSTRAINT)
        #expect(error?.extendedCode == SQLITE_CONSTRAINT | (6 << 8))  // SQLITE_CONSTRAINT_PRIMARYKEY
        #expect(error?.message.contains("UNIQUE") == true)
        #expect(error?.sql == "INSERT INTO t VALUES (1)")

        let syntax = #expect(throws: SQLiteError.self) { _ = try connection.statement("SELEC nonsense") }
        #expect(syntax?.code == SQLITE_ERROR)
    }

    @Test func readOnlyConnectionCannotWrite() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("s.db")
        try SQLiteConnection(path: path).execute("CREATE TABLE t (x INTEGER)")
        let reader = try SQLiteConnection(path: path, mode: .init(readOnly: true))
        let error = #expect(throws: SQLiteError.self) { try reader.execute("INSERT INTO t VALUES (1)") }
        #expect(error?.code == SQLITE_READONLY)
    }

    @Test func closedConnectionThrowsMisuse() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file("s.db"))
        connection.close()
        #expect(!connection.isOpen)
        let error = #expect(throws: SQLiteError.self) { try connection.execute("SELECT 1") }
        #expect(error?.code == SQLITE_MISUSE)
    }
}
