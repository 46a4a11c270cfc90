/// The journal's tables as an ordered list of forward migrations. `PRAGMA user_version` holds how
/// many have run; each runs once, inside the opening transaction. Never edit a shipped step:
/// append a new one.
enum JournalSchema {
    static let migrations: [[String]] = [
        // v1: the first release. A fill's seq is its rowid: one fill per event, stored in seq order,
        // so inserting appends to the table and the execId index is the only scattered write.
        [
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """
            CREATE TABLE events (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, account TEXT, instrument TEXT,
                exec_id TEXT, time INTEGER NOT NULL, source TEXT NOT NULL, payload TEXT NOT NULL,
                deltas TEXT NOT NULL, committed_at INTEGER NOT NULL)
            """,
            """
            CREATE TABLE fills (seq INTEGER PRIMARY KEY, exec_id TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
                instrument TEXT NOT NULL, side TEXT NOT NULL, qty INTEGER NOT NULL, price TEXT NOT NULL,
                price_units INTEGER NOT NULL, time INTEGER NOT NULL, source TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'live', orig_qty INTEGER, orig_price TEXT)
            """,
            // Indexes end in the rowid (= seq), so each lists its fills in seq order.
            "CREATE INDEX fills_by_account ON fills(account)",
            """
            CREATE TABLE marks (instrument TEXT PRIMARY KEY, price TEXT NOT NULL, price_units INTEGER NOT NULL,
                time INTEGER NOT NULL, seq INTEGER NOT NULL)
            """,
            """
            CREATE TABLE sod (account TEXT NOT NULL, instrument TEXT NOT NULL, qty INTEGER NOT NULL,
                price TEXT NOT NULL, price_units INTEGER NOT NULL, seq INTEGER NOT NULL,
                PRIMARY KEY (account, instrument))
            """,
            "CREATE TABLE checkpoints (seq INTEGER PRIMARY KEY, state BLOB NOT NULL, created_at INTEGER NOT NULL)",
            "CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL, seq INTEGER NOT NULL)",
            """
            CREATE TABLE audit (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, detail TEXT NOT NULL)
            """,
        ],
        // v2: audit lines point at the event they describe; fills can be listed per instrument.
        [
            "ALTER TABLE audit ADD COLUMN seq INTEGER",
            "CREATE INDEX audit_by_seq ON audit(seq)",
            "CREATE INDEX fills_by_account_instrument ON fills(account, instrument)",
            "CREATE INDEX fills_by_instrument ON fills(instrument)",
        ],
        // v3: working orders. Each order event stores (orderId, version), the order's idempotency
        // key, as a fill stores its execId.
        [
            """
            CREATE TABLE order_versions (order_id TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL,
                PRIMARY KEY (order_id, version)) WITHOUT ROWID
            """,
        ],
        // v4: one row per event, so a single-fill commit touches two B-tree pages (the events
        // table's last leaf and one index leaf) instead of seven. A fill's own columns move into
        // its event row; `fills` becomes a view of them (same columns, for SQL readers). The one
        // index serves what reads fills: history by account and instrument in seq order (and by
        // account, or instrument, merging its groups), and the execId → seq list recovery loads,
        // which it covers. The execId UNIQUE index is gone: the writer's in-memory execId index
        // already refuses a repeat before it becomes an event. New rows keep their deltas as a
        // compact BLOB (the writer's choice) in the same `deltas` column; old rows keep their JSON.
        [
            "ALTER TABLE events ADD COLUMN side TEXT",
            "ALTER TABLE events ADD COLUMN qty INTEGER",
            "ALTER TABLE events ADD COLUMN price TEXT",
            "ALTER TABLE events ADD COLUMN price_units INTEGER",
            "ALTER TABLE events ADD COLUMN status TEXT",
            "ALTER TABLE events ADD COLUMN orig_qty INTEGER",
            "ALTER TABLE events ADD COLUMN orig_price TEXT",
            """
            UPDATE events SET side = f.side, qty = f.qty, price = f.price, price_units = f.price_units, status = f.status,
                orig_qty = f.orig_qty, orig_price = f.orig_price
            FROM fills AS f WHERE f.seq = events.seq AND events.kind = 'fill'
            """,
            "DROP TABLE fills",
            """
            CREATE VIEW fills AS SELECT seq, exec_id, account, instrument, side, qty, price, price_units, time, source,
                status, orig_qty, orig_price FROM events WHERE kind = 'fill'
            """,
            // seq is the rowid: named here so it sorts each (account, instrument) group. The execId
            // and kind follow so that every fill query is answered from the index alone: SQLite
            // counts a column of the partial index's WHERE as covered only if the index holds it.
            "CREATE INDEX events_fills ON events(account, instrument, seq, exec_id, kind) WHERE kind = 'fill'",
        ],
        // v5: a ledger checkpoint (36 MiB at a million fills) is stored in pieces of at most ~1 MiB,
        // one piece per commit, so no commit writes or frees tens of MiB at once. The pieces
        // live in `checkpoint_parts`; the `checkpoints` row, written in the commit that stores
        // the last piece, is what makes the checkpoint visible, so a half-stored one is never
        // read. Such a row has `parts` (how many) and `size` (bytes in all) and an empty `state`;
        // rows written before v5 keep their whole blob in `state` and NULL `parts`.
        [
            "ALTER TABLE checkpoints ADD COLUMN parts INTEGER",
            "ALTER TABLE checkpoints ADD COLUMN size INTEGER",
            """
            CREATE TABLE checkpoint_parts (seq INTEGER NOT NULL, part INTEGER NOT NULL, bytes BLOB NOT NULL,
                PRIMARY KEY (seq, part))
            """,
        ],
        // v6: incremental checkpoints. The ledger's fill log only grows, so a checkpoint stores
        // just the fills since the previous one, as rows of `checkpoint_fills` (fills
        // first..<first+count, never superseded: every later checkpoint stands on them); its own
        // pieces hold the rest of the state, small whatever the day's volume. `fills` says how
        // many fills of the log a checkpoint stands on; NULL for checkpoints that hold their fills.
        [
            "ALTER TABLE checkpoints ADD COLUMN fills INTEGER",
            "CREATE TABLE checkpoint_fills (first INTEGER PRIMARY KEY, count INTEGER NOT NULL, bytes BLOB NOT NULL)",
        ],
    ]

    /// The version this code writes and understands.
    static var currentVersion: Int { migrations.count }
}
