import Bytes
import CSQLite
import Foundation

/// The durable, sequenced event store: every event gets the next gapless seq and is committed to
/// SQLite before anyone publishes it.
///
/// Not thread-safe, by design: one instance per thread. The ingest thread owns the writing
/// instance and calls `append` once per batch (group commit); a reader elsewhere (resumes,
/// history) opens its own instance with `readOnly: true`, which WAL lets run alongside the writer.
public final class Journal: EventStore {
    public let path: String
    public let options: JournalOptions
    /// A random id created with the database; a different epoch means a different database.
    public let epoch: String
    /// Nanoseconds since the Unix epoch when the database was created.
    public let createdAt: Int64
    /// The seq of the last committed event (0 for an empty journal).
    public private(set) var lastSeq: Seq
    public let schemaVersion: Int
    /// See `EventStore.checkpointCleanupPending`. True after opening, so that the first commits
    /// look for pieces a crash or an older run left behind.
    public private(set) var checkpointCleanupPending = true
    /// The seq of the checkpoint whose pieces are being stored (its first pieces are committed,
    /// its last is not): its pieces are not superseded, only unfinished.
    private var checkpointBeingStored: Seq?
    /// The writable connection's data version right after this journal's last append (with the
    /// connection it was read on: a reopened connection's counter starts afresh).
    private var dataVersionAfterLastAppend: (connection: ObjectIdentifier, version: UInt32)?
    /// The event row's strings and blobs, copied once per row into room kept between rows.
    private var rowArena = BindingArena()

    private var connection: SQLiteConnection?

    /// Opens (creating file and directories if needed) and migrates the journal at `options.path`.
    public init(_ options: JournalOptions) throws(JournalError) {
        self.path = options.path
        self.options = options
        let connection = try Journal.openConnection(options)
        do {
            let opened = try Journal.prepareSchema(connection, options)
            epoch = opened.epoch
            createdAt = opened.createdAt
            lastSeq = opened.lastSeq
            schemaVersion = opened.version
            self.connection = connection
        } catch {
            connection.close()
            throw error
        }
    }

    deinit { connection?.close() }

    /// Closes the file; later calls fail with code "closed". Safe to call twice.
    public func close() {
        connection?.close()
        connection = nil
    }

    // MARK: Writing

    /// Pieces of a checkpoint stored by one commit of `append(_:audit:cursors:checkpoint:)`.
    public static let wholeCheckpointPieceBytes = 1 << 20

    /// Commits `events` (seqs lastSeq+1, lastSeq+2, …) with their fill columns and status updates, marks
    /// and SOD rows, the audit entries, the cursors (stamped with the batch's last seq) and an
    /// optional whole checkpoint (all its pieces: tools and tests; the writer stores a piece per
    /// commit) in ONE transaction. Returns the assigned seqs in order. On any error nothing is
    /// stored, `lastSeq` is unchanged, and the error is thrown.
    @discardableResult
    public func append(_ events: [NewEvent], audit: [AuditEntry] = [], cursors: [SourceCursor] = [],
                       checkpoint: (seq: Seq, state: [UInt8])? = nil) throws(JournalError) -> [Seq] {
        let pieces = checkpoint.map {
            CheckpointPiece.split(seq: $0.seq, state: $0.state, pieceBytes: Journal.wholeCheckpointPieceBytes)
        }
        return try append(events, audit: audit, cursors: cursors, checkpointPieces: pieces ?? [])
    }

    /// Like `append(_:audit:cursors:checkpoint:)`, with the pieces of a checkpoint (in order; a
    /// checkpoint's pieces across commits too). The commit that stores a checkpoint's last piece
    /// makes it the latest and supersedes the ones beyond `checkpointsKept`; the superseded
    /// pieces are then deleted one per commit, so no commit frees much more than a piece.
    @discardableResult
    public func append(_ events: [NewEvent], audit: [AuditEntry], cursors: [SourceCursor],
                       checkpointPieces: [CheckpointPiece]) throws(JournalError) -> [Seq] {
        let db = try writableConnection()
        let base = lastSeq
        let committedAt = wallClockNanos()
        var beingStored = checkpointBeingStored
        var cleanupPending = checkpointCleanupPending
        let seqs: [Seq] = try guarded("append to journal") {
            try db.transaction {
                // Another process writing to the file is caught here. The data version is read
                // without a statement and changes only when someone commits; the max(seq) query
                // (~4,000 instructions) runs only then, or before this journal's first append.
                let known = dataVersionAfterLastAppend
                if known?.connection != ObjectIdentifier(db) || known?.version != db.dataVersion {
                    let stored = try Journal.maxSeq(db)
                    guard stored == base else {
                        throw JournalError(code: "conflict", message:
                            "append to journal \(path): the file holds seq \(stored) but this process expected \(base); another process is writing to it")
                    }
                }
                var seqs: [Seq] = []
                seqs.reserveCapacity(events.count)
                for (offset, event) in events.enumerated() {
                    let seq = base + Seq(offset) + 1
                    try insert(event, seq: seq, committedAt: committedAt, db: db)
                    seqs.append(seq)
                }
                let last = seqs.last ?? base
                try insertAudit(audit, db: db)
                for cursor in cursors {
                    try db.run("INSERT INTO cursors (name, value, seq) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET value = excluded.value, seq = excluded.seq",
                               [.text(cursor.name), .text(cursor.value), .integer(last)])
                }
                for piece in checkpointPieces {
                    let superseded = try insertCheckpointPiece(piece, lastSeq: last, createdAt: committedAt, db: db)
                    beingStored = piece.isLast ? nil : piece.seq
                    if superseded { cleanupPending = true }
                }
                if cleanupPending && !checkpointPieces.contains(where: \.isLast) {
                    cleanupPending = try deleteOneSupersededPiece(keeping: beingStored, db: db)
                }
                return seqs
            }
        }
        lastSeq = seqs.last ?? base
        dataVersionAfterLastAppend = (ObjectIdentifier(db), db.dataVersion)
        checkpointBeingStored = beingStored
        checkpointCleanupPending = cleanupPending
        return seqs
    }

    /// Stores audit entries on their own (e.g. rejections, which produce no event).
    public func audit(_ entries: [AuditEntry]) throws(JournalError) {
        guard !entries.isEmpty else { return }
        let db = try writableConnection()
        try guarded("write audit entries to journal") {
            try db.transaction { try insertAudit(entries, db: db) }
        }
    }

    /// Copies the whole database, consistent at one instant, to a new file (`VACUUM INTO`).
    /// The target must not exist yet.
    public func backup(to target: String) throws(JournalError) {
        let db = try openConnection()
        if FileManager.default.fileExists(atPath: target) {
            throw JournalError(code: "exists", message: "back up journal \(path): target \(target) already exists")
        }
        try guarded("back up journal") {
            do {
                try db.run("VACUUM INTO ?1", [.text(target)])
            } catch let error as SQLiteError {
                throw JournalError(error, path: path, doing: "back up to \(target) from journal")
            }
        }
    }

    /// Copies committed WAL pages back into the database file now (`wal_checkpoint(PASSIVE)`),
    /// so the automatic checkpoint finds little left to copy on a later, latency-sensitive commit.
    /// `WALCheckpointer` calls it from its own read-write instance and thread (PASSIVE never
    /// blocks the writer). Returns (pages in the WAL, pages copied back).
    @discardableResult
    public func checkpointWAL() throws(JournalError) -> (walPages: Int, copiedPages: Int) {
        let db = try writableConnection()
        return try guarded("checkpoint WAL of journal") {
            var result = (walPages: 0, copiedPages: 0)
            try db.query("PRAGMA wal_checkpoint(PASSIVE)") { row in
                result = (walPages: Int(row.int64(at: 1)), copiedPages: Int(row.int64(at: 2)))
            }
            return result
        }
    }

    // MARK: Reading

    /// The seq of the event that stored fill `execId`, or nil. A scan of the fill index (tools and
    /// tests): the writer's idempotency check is in memory (the ledger's execId index and the
    /// fill seqs `allFillSeqs()` lists).
    public func seq(ofExecId execId: String) throws(JournalError) -> Seq? {
        let db = try openConnection()
        return try guarded("read journal") { try Journal.seq(ofExecId: execId, db: db) }
    }

    static func seq(ofExecId execId: String, db: SQLiteConnection) throws -> Seq? {
        if case .integer(let seq)? = try db.scalar(FillIndexQuery.seqOfExecId, [.text(execId)]) {
            return seq
        }
        return nil
    }

    /// Every stored execId with its seq (tools and tests). Read from the fill index alone (it
    /// holds both), never from the wide event rows.
    public func allExecIds() throws(JournalError) -> [String: Seq] {
        let db = try openConnection()
        return try guarded("read journal") {
            let count = try db.scalar(FillIndexQuery.count)
            var index: [String: Seq] = [:]
            if case .integer(let count)? = count { index.reserveCapacity(Int(count)) }
            try db.query(FillIndexQuery.execIds) { row in
                index[row.string(at: 0)] = row.int64(at: 1)
            }
            return index
        }
    }

    /// The seq of every stored fill, ascending: the k-th is the event that stored the ledger's
    /// k-th fill (the writer's idempotency and bust lookups go through it, with the ledger's
    /// execId → arrival index). Read from the fill index alone, whose entries come sorted by
    /// (account, instrument, seq), then sorted (a run per group): at a million fills 0.11 s
    /// (release, warm page cache), where reading the event rows in seq order took 0.25–0.40 s
    /// and `allExecIds()` 0.47–0.68 s.
    public func allFillSeqs() throws(JournalError) -> [Seq] {
        let db = try openConnection()
        return try guarded("read journal") {
            var seqs: [Seq] = []
            try db.query(FillIndexQuery.seqs) { row in seqs.append(row.int64(at: 0)) }
            seqs.sort()
            return seqs
        }
    }

    /// The execId of the fill event stored at `seq` (nil: no fill event there): one rowid lookup.
    public func execId(ofFillAt seq: Seq) throws(JournalError) -> String? {
        let db = try openConnection()
        return try guarded("read journal") {
            if case .text(let execId)? = try db.scalar("SELECT exec_id FROM events WHERE seq = ?1 AND kind = 'fill'", [.integer(seq)]) {
                return execId
            }
            return nil
        }
    }

    /// Every stored order (orderId, version) with its seq: the order dedupe index built at startup.
    public func allOrderVersions() throws(JournalError) -> [OrderVersion: Seq] {
        let db = try openConnection()
        return try guarded("read journal") {
            var index: [OrderVersion: Seq] = [:]
            try db.query("SELECT order_id, version, seq FROM order_versions") { row in
                index[OrderVersion(orderId: row.string(at: 0), version: row.int64(at: 1))] = row.int64(at: 2)
            }
            return index
        }
    }

    /// Up to `limit` events with seq > `seq`, in seq order. Because seqs are gapless, the result
    /// is exactly seq+1, seq+2, … up to min(seq+limit, lastSeq).
    public func events(after seq: Seq, limit: Int) throws(JournalError) -> [EventRecord] {
        let db = try openConnection()
        return try guarded("read events from journal") {
            var records: [EventRecord] = []
            records.reserveCapacity(max(0, min(limit, 65_536)))
            try db.query("""
                SELECT seq, kind, account, instrument, exec_id, time, source, payload, deltas, committed_at
                FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2
                """, [.integer(seq), .integer(Int64(max(0, limit)))]) { row in
                // Rows before schema v4 hold JSON text; later ones the writer's BLOB.
                let deltas: StoredDeltas = row.isBlob(at: 8) ? .binary(row.bytes(at: 8)) : .json(row.string(at: 8))
                records.append(EventRecord(
                    seq: row.int64(at: 0), kind: row.string(at: 1), account: row.optionalString(at: 2),
                    instrument: row.optionalString(at: 3), execId: row.optionalString(at: 4),
                    time: row.int64(at: 5), source: row.string(at: 6), payload: row.string(at: 7),
                    deltas: deltas, committedAt: row.int64(at: 9)))
            }
            return records
        }
    }

    /// The checkpoint with the highest seq, if any (a complete one: see `CheckpointPiece`).
    public func latestCheckpoint() throws(JournalError) -> Checkpoint? {
        let db = try openConnection()
        return try guarded("read checkpoint from journal") {
            try readCheckpoint("SELECT seq, state, created_at, parts, size, fills FROM checkpoints ORDER BY seq DESC LIMIT 1", [], db: db)
        }
    }

    /// The checkpoint of the first row `sql` selects (seq, state, created_at, parts, size, fills),
    /// its pieces joined, then the fill log it stands on. A row written before schema v5 holds
    /// the whole state itself.
    func readCheckpoint(_ sql: String, _ values: [SQLiteValue], db: SQLiteConnection) throws -> Checkpoint? {
        var found: (checkpoint: Checkpoint, parts: Int64?, size: Int64?)?
        try db.query(sql, values) { row in
            found = (Checkpoint(seq: row.int64(at: 0), state: row.bytes(at: 1), createdAt: row.int64(at: 2),
                                fillCount: row.optionalInt64(at: 5)),
                     row.optionalInt64(at: 3), row.optionalInt64(at: 4))
        }
        guard let found else { return nil }
        var checkpoint = found.checkpoint
        guard let parts = found.parts else { return checkpoint }
        let size = found.size
        let expectedSize = Int(size ?? 0)
        var state: [UInt8] = []
        state.reserveCapacity(expectedSize)
        var next: Int64 = 0
        try db.query("SELECT part, bytes FROM checkpoint_parts WHERE seq = ?1 ORDER BY part", [.integer(checkpoint.seq)]) { row in
            guard row.int64(at: 0) == next else { return }
            row.appendBytes(at: 1, to: &state)
            next += 1
        }
        guard next == parts, state.count == expectedSize else {
            throw JournalError(code: "corrupt", message:
                "read checkpoint from journal \(path): checkpoint \(checkpoint.seq) should have \(parts) pieces of \(expectedSize) bytes in all, found \(next) pieces of \(state.count) bytes")
        }
        if let fills = checkpoint.fillCount {
            if case .integer(let logBytes)? = try db.scalar("SELECT sum(length(bytes)) FROM checkpoint_fills WHERE first < ?1",
                                                            [.integer(fills)]) {
                state.reserveCapacity(state.count + Int(logBytes))
            }
            var end: Int64 = 0
            var gap = false
            try db.query("SELECT first, count, bytes FROM checkpoint_fills WHERE first < ?1 ORDER BY first", [.integer(fills)]) { row in
                guard !gap, row.int64(at: 0) == end else { return gap = true }
                end += row.int64(at: 1)
                row.appendBytes(at: 2, to: &state)
            }
            guard !gap, end == fills else {
                throw JournalError(code: "corrupt", message:
                    "read checkpoint from journal \(path): checkpoint \(checkpoint.seq) stands on \(fills) fills of the log, but the stored log runs without a gap only to fill \(end)")
            }
        }
        checkpoint.state = state
        return checkpoint
    }

    /// Fill history, always returned oldest → newest (by seq). Nil `account`/`instrument` match
    /// everything. With `since`, the first `limit` fills stored after that seq (page forward by
    /// passing the last seq seen); without it, the most recent `limit` fills.
    ///
    /// The fill index lists each (account, instrument) group in seq order. With one group named,
    /// that is one range read; with only an account or only an instrument, each matching group's
    /// first `limit` seqs are read from the index (no row is touched) and merged, then only the
    /// chosen rows are read. With neither, the events table itself is in seq order.
    public func fills(account: String?, instrument: String?, since: Seq?, limit: Int) throws(JournalError) -> [FillRow] {
        let db = try openConnection()
        let limit = max(0, limit)
        return try guarded("read fills from journal") {
            let newestFirst = since == nil
            guard account != nil || instrument != nil else {
                let order = newestFirst ? "DESC" : "ASC"
                var rows: [FillRow] = []
                try db.query("""
                    SELECT \(FillRow.selectColumns) FROM events
                    WHERE kind = 'fill' AND seq > ?1 ORDER BY seq \(order) LIMIT ?2
                    """, [.integer(since ?? 0), .integer(Int64(limit))]) { row in
                    rows.append(FillRow(selected: row))
                }
                return newestFirst ? rows.reversed() : rows
            }
            var seqs: [Seq] = []
            for group in try Journal.fillGroups(account: account, instrument: instrument, db: db) {
                try db.query(FillIndexQuery.groupSeqs(newestFirst: newestFirst),
                             [.text(group.account), .text(group.instrument), .integer(since ?? 0), .integer(Int64(limit))]) { row in
                    seqs.append(row.int64(at: 0))
                }
            }
            seqs.sort()
            let chosen = newestFirst ? seqs.suffix(limit) : seqs.prefix(limit)
            var rows: [FillRow] = []
            rows.reserveCapacity(chosen.count)
            for seq in chosen {
                try db.query("SELECT \(FillRow.selectColumns) FROM events WHERE seq = ?1", [.integer(seq)]) { row in
                    rows.append(FillRow(selected: row))
                }
            }
            return rows
        }
    }

    /// The (account, instrument) groups of the fill index that match, found by seeking from one
    /// group to the next (each step one index lookup, however many fills a group holds).
    static func fillGroups(account: String?, instrument: String?, db: SQLiteConnection) throws -> [(account: String, instrument: String)] {
        if let account, let instrument { return [(account, instrument)] }
        var groups: [(account: String, instrument: String)] = []
        if let account {
            var next = try db.scalar(FillIndexQuery.firstInstrument, [.text(account)])
            while case .text(let found)? = next {
                groups.append((account, found))
                next = try db.scalar(FillIndexQuery.nextInstrument, [.text(account), .text(found)])
            }
        } else if let instrument {
            // Each account holds at most one group of this instrument: visit the accounts.
            var next = try db.scalar(FillIndexQuery.firstAccount)
            while case .text(let found)? = next {
                groups.append((found, instrument))
                next = try db.scalar(FillIndexQuery.nextAccount, [.text(found)])
            }
        }
        return groups
    }

    /// The statements that read the fill index `events_fills`, each answered from the index alone
    /// (`SchemaTests` checks their plans). `INDEXED BY` makes a missing index an error, not a scan
    /// of the event rows.
    enum FillIndexQuery {
        static let execIds = "SELECT exec_id, seq FROM events INDEXED BY events_fills WHERE kind = 'fill'"
        static let count = "SELECT count(*) FROM events INDEXED BY events_fills WHERE kind = 'fill'"
        /// Grouped by (account, instrument), each group in seq order: `allFillSeqs()` sorts them.
        static let seqs = "SELECT seq FROM events INDEXED BY events_fills WHERE kind = 'fill'"
        /// A scan of the whole index: the execId is not a prefix of it.
        static let seqOfExecId = "SELECT seq FROM events INDEXED BY events_fills WHERE kind = 'fill' AND exec_id = ?1"
        static let firstInstrument = """
            SELECT instrument FROM events INDEXED BY events_fills WHERE kind = 'fill' AND account = ?1 ORDER BY instrument LIMIT 1
            """
        static let nextInstrument = """
            SELECT instrument FROM events INDEXED BY events_fills
            WHERE kind = 'fill' AND account = ?1 AND instrument > ?2 ORDER BY instrument LIMIT 1
            """
        static let firstAccount = "SELECT account FROM events INDEXED BY events_fills WHERE kind = 'fill' ORDER BY account LIMIT 1"
        static let nextAccount = """
            SELECT account FROM events INDEXED BY events_fills WHERE kind = 'fill' AND account > ?1 ORDER BY account LIMIT 1
            """
        static func groupSeqs(newestFirst: Bool) -> String {
            """
            SELECT seq FROM events INDEXED BY events_fills
            WHERE kind = 'fill' AND account = ?1 AND instrument = ?2 AND seq > ?3 ORDER BY seq \(newestFirst ? "DESC" : "ASC") LIMIT ?4
            """
        }
    }

    /// One fill by execId (found through the fill index, see `seq(ofExecId:)`).
    public func fill(execId: String) throws(JournalError) -> FillRow? {
        let db = try openConnection()
        return try guarded("read fills from journal") {
            guard let seq = try Journal.seq(ofExecId: execId, db: db) else { return nil }
            var found: FillRow?
            try db.query("SELECT \(FillRow.selectColumns) FROM events WHERE seq = ?1", [.integer(seq)]) { row in
                found = FillRow(selected: row)
            }
            return found
        }
    }

    /// The latest mark of every instrument, by instrument name.
    public func marks() throws(JournalError) -> [MarkRow] {
        let db = try openConnection()
        return try guarded("read marks from journal") {
            var rows: [MarkRow] = []
            try db.query("SELECT instrument, price, price_units, time, seq FROM marks ORDER BY instrument") { row in
                rows.append(MarkRow(instrument: row.string(at: 0), price: row.string(at: 1),
                                    priceUnits: row.int64(at: 2), time: row.int64(at: 3), seq: row.int64(at: 4)))
            }
            return rows
        }
    }

    /// Every start-of-day row, by account then instrument.
    public func sodRows() throws(JournalError) -> [SodRow] {
        let db = try openConnection()
        return try guarded("read SOD rows from journal") {
            var rows: [SodRow] = []
            try db.query("SELECT account, instrument, qty, price, price_units, seq FROM sod ORDER BY account, instrument") { row in
                rows.append(SodRow(account: row.string(at: 0), instrument: row.string(at: 1), qty: row.int64(at: 2),
                                   price: row.string(at: 3), priceUnits: row.int64(at: 4), seq: row.int64(at: 5)))
            }
            return rows
        }
    }

    /// The most recent `limit` audit entries, oldest → newest.
    public func auditEntries(limit: Int) throws(JournalError) -> [AuditEntry] {
        let db = try openConnection()
        return try guarded("read audit trail from journal") {
            var entries: [AuditEntry] = []
            try db.query("SELECT time, actor, action, detail, seq FROM audit ORDER BY id DESC LIMIT ?1",
                         [.integer(Int64(max(0, limit)))]) { row in
                entries.append(AuditEntry(time: row.int64(at: 0), actor: row.string(at: 1), action: row.string(at: 2),
                                          detail: row.string(at: 3), seq: row.optionalInt64(at: 4)))
            }
            return entries.reversed()
        }
    }

    /// The stored value of source cursor `name`.
    public func cursor(_ name: String) throws(JournalError) -> String? {
        let db = try openConnection()
        return try guarded("read cursor from journal") {
            if case .text(let value)? = try db.scalar("SELECT value FROM cursors WHERE name = ?1", [.text(name)]) {
                return value
            }
            return nil
        }
    }

    /// `PRAGMA integrity_check`: true when SQLite finds nothing wrong.
    public func integrityCheck() throws(JournalError) -> Bool {
        let db = try openConnection()
        return try guarded("check integrity of journal") {
            var lines: [String] = []
            try db.query("PRAGMA integrity_check") { row in lines.append(row.string(at: 0)) }
            return lines == ["ok"]
        }
    }

    /// The value of `PRAGMA name` on this journal's own connection (for tests and diagnostics).
    func pragma(_ name: String) throws(JournalError) -> SQLiteValue? {
        let db = try openConnection()
        return try guarded("read journal") { try db.scalar("PRAGMA \(name)") }
    }

    // MARK: Private: writing

    private func insert(_ event: NewEvent, seq: Seq, committedAt: Int64, db: SQLiteConnection) throws {
        // One row per event: a fill's columns are part of it (NULL for other kinds).
        let statement = try db.statement(literal: """
            INSERT INTO events (seq, kind, account, instrument, exec_id, time, source, payload, deltas, committed_at,
                                side, qty, price, price_units, status, orig_qty, orig_price)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
            """)
        // All 17 parameters are bound below, NULL included, every time; the strings and blobs
        // through the reused arena, which SQLite reads without copying while the row is stepped.
        defer { statement.resetKeepingBindings() }
        let fill = event.fill
        rowArena.removeAll()
        func text(_ value: String?, at index: Int32) throws {
            if let value { rowArena.text(value, at: index) } else { try statement.bindNull(at: index) }
        }
        try statement.bind(seq, at: 1)
        try text(event.kind, at: 2)
        try text(fill?.account ?? event.account, at: 3)
        try text(fill?.instrument ?? event.instrument, at: 4)
        try text(fill?.execId ?? event.execId, at: 5)
        try statement.bind(event.time, at: 6)
        try text(event.source, at: 7)
        try text(event.payload, at: 8)
        switch event.deltas {
        case .json(let json): try text(json, at: 9)
        case .binary(let bytes): rowArena.blob(bytes, at: 9)
        }
        try statement.bind(committedAt, at: 10)
        try text(fill?.side, at: 11)
        try statement.bind(fill?.qty, at: 12)
        try text(fill?.price, at: 13)
        try statement.bind(fill?.priceUnits, at: 14)
        try text(fill?.status, at: 15)
        try statement.bind(fill?.originalQty, at: 16)
        try text(fill?.originalPrice, at: 17)
        try rowArena.withBindings(on: statement) { try statement.run() }

        if let order = event.orderVersion {
            try db.run("INSERT INTO order_versions (order_id, version, seq) VALUES (?1, ?2, ?3)",
                       [.text(order.orderId), .integer(order.version), .integer(seq)])
        }
        if let update = event.fillStatus { try apply(update, db: db) }
        if let mark = event.mark {
            try db.run("""
                INSERT INTO marks (instrument, price, price_units, time, seq) VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT(instrument) DO UPDATE SET price = excluded.price, price_units = excluded.price_units,
                    time = excluded.time, seq = excluded.seq
                """, [.text(mark.instrument), .text(mark.price), .integer(mark.priceUnits), .integer(mark.time), .integer(seq)])
        }
        if let sod = event.sod {
            try db.run("""
                INSERT INTO sod (account, instrument, qty, price, price_units, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                ON CONFLICT(account, instrument) DO UPDATE SET qty = excluded.qty, price = excluded.price,
                    price_units = excluded.price_units, seq = excluded.seq
                """, [.text(sod.account), .text(sod.instrument), .integer(sod.qty), .text(sod.price),
                      .integer(sod.priceUnits), .integer(seq)])
        }
    }

    private func apply(_ update: FillStatusUpdate, db: SQLiteConnection) throws {
        let notFound = JournalError(code: "not_found", message: "append to journal \(path): no stored fill with execId \(update.execId) to mark \(update.status)")
        guard let fillSeq = try update.fillSeq ?? Journal.seq(ofExecId: update.execId, db: db) else { throw notFound }
        // The execId is checked too: a seq that is not this fill's changes nothing and fails.
        let changed: Int
        if update.qty == nil && update.price == nil && update.priceUnits == nil {
            changed = try db.run("UPDATE events SET status = ?1 WHERE seq = ?2 AND kind = 'fill' AND exec_id = ?3",
                                 [.text(update.status), .integer(fillSeq), .text(update.execId)])
        } else {
            // SET expressions all read the old row, so the originals capture the pre-correction values.
            changed = try db.run("""
                UPDATE events SET status = ?1, orig_qty = coalesce(orig_qty, qty), orig_price = coalesce(orig_price, price),
                    qty = coalesce(?2, qty), price = coalesce(?3, price), price_units = coalesce(?4, price_units)
                WHERE seq = ?5 AND kind = 'fill' AND exec_id = ?6
                """, [.text(update.status), SQLiteValue(update.qty), SQLiteValue(update.price),
                      SQLiteValue(update.priceUnits), .integer(fillSeq), .text(update.execId)])
        }
        guard changed == 1 else { throw notFound }
    }

    private func insertAudit(_ entries: [AuditEntry], db: SQLiteConnection) throws {
        for entry in entries {
            try db.run("INSERT INTO audit (time, actor, action, detail, seq) VALUES (?1, ?2, ?3, ?4, ?5)",
                       [.integer(entry.time), .text(entry.actor), .text(entry.action), .text(entry.detail), SQLiteValue(entry.seq)])
        }
    }

    /// Stores one piece; with the last one, the `checkpoints` row that makes the checkpoint
    /// visible, and the rows beyond `checkpointsKept` go. Returns whether any went (their pieces
    /// are then left for `deleteOneSupersededPiece`).
    private func insertCheckpointPiece(_ piece: CheckpointPiece, lastSeq last: Seq, createdAt: Int64,
                                       db: SQLiteConnection) throws -> Bool {
        guard piece.seq >= 0 && piece.seq <= last else {
            throw JournalError(code: "invalid", message: "append to journal \(path): checkpoint seq \(piece.seq) is outside 0...\(last)")
        }
        guard piece.index >= 0 && piece.index < piece.count else {
            throw JournalError(code: "invalid", message: "append to journal \(path): checkpoint piece \(piece.index) is outside 0..<\(piece.count)")
        }
        if let segment = piece.logSegment {
            guard segment.first >= 0, segment.count > 0 else {
                throw JournalError(code: "invalid", message: "append to journal \(path): fill log segment \(segment.first)+\(segment.count) is empty or negative")
            }
            // Rows from here on are from a checkpoint that never completed (a crash, a stop):
            // this one rewrites the log from where the last complete one ended.
            try db.run("DELETE FROM checkpoint_fills WHERE first >= ?1", [.integer(segment.first)])
            let statement = try db.statement("INSERT INTO checkpoint_fills (first, count, bytes) VALUES (?1, ?2, ?3)")
            defer { statement.reset() }
            try statement.bind(segment.first, at: 1)
            try statement.bind(segment.count, at: 2)
            try statement.bind(piece.bytes, at: 3)
            try statement.run()
            return false
        }
        let statement = try db.statement("INSERT OR REPLACE INTO checkpoint_parts (seq, part, bytes) VALUES (?1, ?2, ?3)")
        defer { statement.reset() }
        try statement.bind(piece.seq, at: 1)
        try statement.bind(Int64(piece.index), at: 2)
        try statement.bind(piece.bytes, at: 3)
        try statement.run()
        guard piece.isLast else { return false }
        try db.run("INSERT OR REPLACE INTO checkpoints (seq, state, created_at, parts, size, fills) VALUES (?1, X'', ?2, ?3, ?4, ?5)",
                   [.integer(piece.seq), .integer(createdAt), .integer(Int64(piece.count)), .integer(Int64(piece.totalBytes)),
                    SQLiteValue(piece.fillCount)])
        // A row written before schema v5 holds its whole blob: deleting it frees that much in
        // this commit, once, the first time a new checkpoint supersedes it.
        let superseded = try db.run("""
            DELETE FROM checkpoints WHERE seq NOT IN (SELECT seq FROM checkpoints ORDER BY seq DESC LIMIT ?1)
            """, [.integer(Int64(max(1, options.checkpointsKept)))])
        return superseded > 0
    }

    /// Deletes one piece that belongs to no stored checkpoint (superseded, or left unfinished by
    /// a crash or a stop), never one of `keeping` (being stored). Returns whether one was found:
    /// when none is, the cleanup is done.
    private func deleteOneSupersededPiece(keeping beingStored: Seq?, db: SQLiteConnection) throws -> Bool {
        let deleted = try db.run("""
            DELETE FROM checkpoint_parts WHERE rowid = (SELECT rowid FROM checkpoint_parts
                WHERE seq NOT IN (SELECT seq FROM checkpoints) AND seq IS NOT ?1 LIMIT 1)
            """, [SQLiteValue(beingStored)])
        return deleted > 0
    }

    // MARK: Private: plumbing

    func openConnection() throws(JournalError) -> SQLiteConnection {
        guard let connection else {
            throw JournalError(code: "closed", message: "journal \(path) is closed")
        }
        return connection
    }

    private func writableConnection() throws(JournalError) -> SQLiteConnection {
        let connection = try openConnection()
        if options.readOnly {
            throw JournalError(code: "readonly", message: "journal \(path) was opened read-only")
        }
        return connection
    }

    /// Runs `body`, turning whatever it throws into a JournalError that names the file.
    func guarded<T>(_ activity: String, _ body: () throws -> T) throws(JournalError) -> T {
        do {
            return try body()
        } catch let error as JournalError {
            throw error
        } catch let error as SQLiteError {
            throw JournalError(error, path: path, doing: activity)
        } catch {
            throw JournalError(code: "sqlite", message: "\(activity) \(path): \(error)")
        }
    }

    static func maxSeq(_ db: SQLiteConnection) throws -> Seq {
        if case .integer(let seq)? = try db.scalar("SELECT max(seq) FROM events") { return seq }
        return 0
    }
}
