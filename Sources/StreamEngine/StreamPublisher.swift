/// What the core asks of a stream engine: take each committed batch, in commit order, and get
/// every event onto the stream exactly once and in seq order, catching up from the journal after
/// any outage. Redis Streams is the engine today (`RedisStreamPublisher`); NATS JetStream would
/// be another conformer (subject per desk, `Nats-Msg-Id` = seq for de-duplication), with no
/// change to the pipeline, the hub or the server wiring.
///
/// Loop-confined: every call comes on the loop thread.
public protocol StreamPublisher: AnyObject {
    func start()
    func stop()
    /// Events just committed (the loop receives them in commit order). A publisher that is up
    /// to date sends them at once; one that is behind reads the journal instead.
    func committed(_ entries: [StreamEntry])
    var status: PublisherStatus { get }
}

/// The publisher as operators see it (/healthz, /metrics, logs).
public struct PublisherStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Not yet connected since start.
        case connecting
        /// Up, and every committed event has been sent.
        case publishing
        /// Up, sending events read back from the journal after an outage or start.
        case catchingUp = "catching_up"
        /// The engine is unreachable; commits go on, the journal keeps them.
        case down
    }
    public var state: State = .connecting
    public var reason: String?
    /// The engine's address for display (no password).
    public var engine: String = ""
    /// Highest seq the engine acknowledged.
    public var publishedSeq: Int64 = 0
    /// Highest seq the journal committed, as far as the publisher knows.
    public var committedSeq: Int64 = 0
    /// Entries the engine had lost (its top was below what had been acknowledged) and that
    /// were sent again from the journal.
    public var republished: Int64 = 0
    /// Entries sent (each acknowledged once).
    public var sent: Int64 = 0
    public var errors: Int64 = 0
    public init() {}
}

/// How a publisher reaches the journal, without depending on the pipeline: a read of committed
/// events after a seq, and a record of how far the engine acknowledged (the outbox cursor kept
/// in the journal). Both complete on the loop thread.
public struct JournalTap {
    /// Up to `limit` committed events after `after`, in seq order; nil when the read failed.
    public var read: (_ after: Int64, _ limit: Int, _ done: @escaping ([StreamEntry]?) -> Void) -> Void
    /// Stores `published` in the journal (a cursor row committed like any other).
    public var record: (_ published: Int64, _ done: @escaping () -> Void) -> Void
    /// The last seq the journal holds and the cursor stored by a previous run, at start.
    public var lastSeq: Int64
    public var recordedPublished: Int64
    public var epoch: String

    public init(read: @escaping (Int64, Int, @escaping ([StreamEntry]?) -> Void) -> Void,
                record: @escaping (Int64, @escaping () -> Void) -> Void,
                lastSeq: Int64, recordedPublished: Int64, epoch: String) {
        self.read = read; self.record = record; self.lastSeq = lastSeq
        self.recordedPublished = recordedPublished; self.epoch = epoch
    }
}
