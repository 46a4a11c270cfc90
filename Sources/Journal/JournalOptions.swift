/// How hard a commit waits for the disk.
public enum Durability: String, Sendable, Codable, CaseIterable {
    /// `PRAGMA synchronous=NORMAL` in WAL mode: a commit survives a process crash; a power loss
    /// may lose the last few commits but never corrupts the file.
    case normal
    /// `PRAGMA synchronous=FULL`: fsync on every commit; survives power loss too.
    case full
}

public struct JournalOptions: Sendable {
    /// The database file. Missing parent directories are created (unless read-only).
    public var path: String
    public var durability: Durability = .normal
    /// Open for reading only: no migrations, no writes. The file must exist at the current schema.
    public var readOnly = false
    /// How long to wait for another connection's lock before failing with code "locked".
    public var busyTimeoutMilliseconds: Int32 = 5_000
    /// How many checkpoints to keep; older ones are deleted in the transaction that adds a new one.
    public var checkpointsKept = 3
    /// WAL pages (4 KiB each) after which a commit also copies the WAL back into the database
    /// (an fsync). Bigger means fewer, larger checkpoints; `Journal.checkpointWAL()` can run one
    /// from another connection (`WALCheckpointer`). 0 turns automatic checkpoints off, but then
    /// the WAL of a writer under constant load never restarts from the top and grows without
    /// bound: `serve` keeps 4,000 pages next to the background checkpointer.
    public var walAutocheckpointPages = 10_000
    /// SQLite page cache for this connection, in KiB. 8 MiB: the writer only appends (the last
    /// leaf of `events` and one leaf per account × instrument of the fill index, ~2 MiB at a
    /// million fills), and a larger cache simply filled up with pages written once: 32 MiB of
    /// the resident-memory growth measured at 100 subscribers × 10k fills/s.
    public var cacheKiB = 8_192
    /// The SQLite VFS to open the file through (nil: the default). Tests register one that
    /// injects write, sync, read and lock faults under the real SQLite, the way SQLite's own
    /// test suite does.
    public var vfs: String? = nil
    /// Told, before a migration of a journal that holds events starts, what it is about to do: a
    /// big journal's migration can take a while before the server listens (v4 copies every fill
    /// into its event row, ~25 s per million fills), and silence reads like a hang.
    public var migrationNotice: (@Sendable (String) -> Void)? = nil

    public init(path: String) {
        self.path = path
    }
}
