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
    ]

    /// The version this code writes and understands.
    static var currentVersion: Int { migrations.count }
}
