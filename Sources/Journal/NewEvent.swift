/// What the ingest thread appends: one validated input and everything it changes. The Journal
/// treats `payload` and `deltas` as opaque, written and read by the caller.
public struct NewEvent: Sendable, Equatable {
    /// "fill", "bust", "correct", "mark", "sod", "dayroll", "order".
    public var kind: String
    public var account: String?
    public var instrument: String?
    public var execId: String?
    /// Nanoseconds since the Unix epoch (event time).
    public var time: Int64
    /// Token name or monitor name (never a secret).
    public var source: String
    /// Canonical JSON of the input message, replayed on recovery.
    public var payload: String
    /// The delta messages this event produced, served to resuming subscribers.
    public var deltas: StoredDeltas
    /// For a fill: its columns in the event row. The journal does not check that the execId is
    /// new: the writer's execId index does, before the event exists.
    public var fill: FillRow?
    /// For a bust or correction: the change to the referenced fill (which must exist).
    public var fillStatus: FillStatusUpdate?
    /// For a mark: replaces the instrument's latest mark.
    public var mark: MarkRow?
    /// For a start-of-day position: replaces the account × instrument's SOD row.
    public var sod: SodRow?
    /// For an order event: its (orderId, version), which must be new.
    public var orderVersion: OrderVersion?

    public init(kind: String, account: String? = nil, instrument: String? = nil, execId: String? = nil,
                time: Int64, source: String, payload: String, deltas: StoredDeltas = .json("[]"),
                fill: FillRow? = nil, fillStatus: FillStatusUpdate? = nil, mark: MarkRow? = nil, sod: SodRow? = nil,
                orderVersion: OrderVersion? = nil) {
        self.kind = kind
        self.account = account
        self.instrument = instrument
        self.execId = execId
        self.time = time
        self.source = source
        self.payload = payload
        self.deltas = deltas
        self.fill = fill
        self.fillStatus = fillStatus
        self.mark = mark
        self.sod = sod
        self.orderVersion = orderVersion
    }
}
