/// A gapless, global sequence number of a committed event; the first event is 1.
public typealias Seq = Int64

/// One execution as stored with its fill event (and listed by the `fills` view). Prices are kept
/// twice: the exact display text the producer sent and the integer count of price units the
/// ledger computed from it. On insert, the execId, account, instrument and the event's time and
/// source are the event row's own columns: a fill row is its event row.
public struct FillRow: Sendable, Equatable {
    public var execId: String
    public var account: String
    public var instrument: String
    /// "buy" or "sell".
    public var side: String
    public var qty: Int64
    public var price: String
    public var priceUnits: Int64
    /// Nanoseconds since the Unix epoch (event time).
    public var time: Int64
    public var source: String
    /// "live", "busted" or "corrected".
    public var status: String
    /// The seq of the event that stored the fill; ignored on insert (the event's seq is used).
    public var seq: Seq
    /// Quantity and price before the first correction; nil while never corrected.
    public var originalQty: Int64?
    public var originalPrice: String?

    public init(execId: String, account: String, instrument: String, side: String, qty: Int64,
                price: String, priceUnits: Int64, time: Int64, source: String, status: String = "live",
                seq: Seq = 0, originalQty: Int64? = nil, originalPrice: String? = nil) {
        self.execId = execId
        self.account = account
        self.instrument = instrument
        self.side = side
        self.qty = qty
        self.price = price
        self.priceUnits = priceUnits
        self.time = time
        self.source = source
        self.status = status
        self.seq = seq
        self.originalQty = originalQty
        self.originalPrice = originalPrice
    }
}

extension FillRow {
    /// The columns `init(selected:)` reads, in its order.
    static let selectColumns = "exec_id, account, instrument, side, qty, price, price_units, time, source, status, seq, orig_qty, orig_price"

    /// The fill on the statement's current row, selected with `selectColumns`.
    init(selected row: SQLiteStatement) {
        self.init(execId: row.string(at: 0), account: row.string(at: 1), instrument: row.string(at: 2),
                  side: row.string(at: 3), qty: row.int64(at: 4), price: row.string(at: 5),
                  priceUnits: row.int64(at: 6), time: row.int64(at: 7), source: row.string(at: 8),
                  status: row.string(at: 9), seq: row.int64(at: 10), originalQty: row.optionalInt64(at: 11),
                  originalPrice: row.optionalString(at: 12))
    }
}

/// A bust or correction applied to an already stored fill. For a correction, non-nil `qty` /
/// `price` replace the stored values and the first values are kept as `originalQty/Price`.
public struct FillStatusUpdate: Sendable, Equatable {
    public var execId: String
    /// "busted" or "corrected".
    public var status: String
    public var qty: Int64?
    public var price: String?
    public var priceUnits: Int64?
    /// The seq of the event that stored the fill, which the writer knows from its execId index:
    /// the update then goes straight to that row. Nil makes the journal search its fill index
    /// for the execId (a scan; tools and tests).
    public var fillSeq: Seq?

    public init(execId: String, status: String, qty: Int64? = nil, price: String? = nil, priceUnits: Int64? = nil,
                fillSeq: Seq? = nil) {
        self.execId = execId
        self.status = status
        self.qty = qty
        self.price = price
        self.priceUnits = priceUnits
        self.fillSeq = fillSeq
    }
}

/// The latest mark of an instrument (`marks` keeps one row per instrument).
public struct MarkRow: Sendable, Equatable {
    public var instrument: String
    public var price: String
    public var priceUnits: Int64
    public var time: Int64
    /// Filled on read.
    public var seq: Seq

    public init(instrument: String, price: String, priceUnits: Int64, time: Int64, seq: Seq = 0) {
        self.instrument = instrument
        self.price = price
        self.priceUnits = priceUnits
        self.time = time
        self.seq = seq
    }
}

/// A start-of-day position (`sod` keeps one row per account × instrument; a new one replaces it).
public struct SodRow: Sendable, Equatable {
    public var account: String
    public var instrument: String
    /// Signed: negative is short.
    public var qty: Int64
    public var price: String
    public var priceUnits: Int64
    /// Filled on read.
    public var seq: Seq

    public init(account: String, instrument: String, qty: Int64, price: String, priceUnits: Int64, seq: Seq = 0) {
        self.account = account
        self.instrument = instrument
        self.qty = qty
        self.price = price
        self.priceUnits = priceUnits
        self.seq = seq
    }
}

/// The messages an event produced, as the writer stored them. The journal does not read them.
public enum StoredDeltas: Sendable, Equatable {
    /// A JSON array of the subscriber messages (every row written before schema v4).
    case json(String)
    /// A compact binary form chosen by the writer (`Ledger.DeltaCoding` since schema v4), stored
    /// as a BLOB in the same column.
    case binary([UInt8])

    /// Bytes stored.
    public var count: Int {
        switch self {
        case .json(let text): return text.utf8.count
        case .binary(let bytes): return bytes.count
        }
    }
}

/// A committed event as read back (resumes, recovery replay).
public struct EventRecord: Sendable, Equatable {
    public var seq: Seq
    public var kind: String
    public var account: String?
    public var instrument: String?
    public var execId: String?
    public var time: Int64
    public var source: String
    public var payload: String
    public var deltas: StoredDeltas
    /// Nanoseconds since the Unix epoch when the event was committed.
    public var committedAt: Int64

    public init(seq: Seq, kind: String, account: String?, instrument: String?, execId: String?, time: Int64,
                source: String, payload: String, deltas: StoredDeltas, committedAt: Int64) {
        self.seq = seq
        self.kind = kind
        self.account = account
        self.instrument = instrument
        self.execId = execId
        self.time = time
        self.source = source
        self.payload = payload
        self.deltas = deltas
        self.committedAt = committedAt
    }
}

/// One line of the audit trail. Never holds a secret: `actor` is a token or monitor name.
public struct AuditEntry: Sendable, Equatable {
    /// Nanoseconds since the Unix epoch.
    public var time: Int64
    public var actor: String
    /// ingest, reject, bust, correct, sod, dayroll, login_failure, config_load, token_add, …
    public var action: String
    public var detail: String
    /// The event this entry is about, if any. Inside `append`, event i of the batch gets
    /// `journal.lastSeq + 1 + i`, so callers can fill this in before the call.
    public var seq: Seq?

    public init(time: Int64, actor: String, action: String, detail: String, seq: Seq? = nil) {
        self.time = time
        self.actor = actor
        self.action = action
        self.detail = detail
        self.seq = seq
    }
}

/// A source's position (e.g. a poller's last timestamp), stored with the events it produced.
public struct SourceCursor: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Serialized ledger state as of `seq`: recovery loads it, then replays `events(after: seq)`.
public struct Checkpoint: Sendable, Equatable {
    public var seq: Seq
    /// The checkpoint's own pieces joined, followed by the fill log it stands on (if any).
    public var state: [UInt8]
    public var createdAt: Int64
    /// How many fills of the stored fill log the state stands on (nil: the state holds its fills).
    public var fillCount: Int64?

    public init(seq: Seq, state: [UInt8], createdAt: Int64, fillCount: Int64? = nil) {
        self.seq = seq
        self.state = state
        self.createdAt = createdAt
        self.fillCount = fillCount
    }
}

/// One piece of an encoded ledger checkpoint, stored by one commit. Stored whole, a checkpoint of
/// tens of MiB would be a commit of tens of ms on the writer, a stall every subscriber sees; a
/// piece per commit adds at most one piece to each. The checkpoint becomes visible to recovery
/// only in the commit that stores its last piece.
public struct CheckpointPiece: Sendable, Equatable {
    /// Fills first..<first+count of the fill log, which later checkpoints share.
    public struct LogSegment: Sendable, Equatable {
        public var first: Int64
        public var count: Int64

        public init(first: Int64, count: Int64) {
            self.first = first
            self.count = count
        }
    }

    /// The checkpoint's seq (the last event it includes).
    public var seq: Seq
    /// 0..<count, stored in this order (a log segment is a piece of its own: 0 of 1).
    public var index: Int
    public var count: Int
    /// Bytes in the whole checkpoint (its own pieces; a log segment: its bytes).
    public var totalBytes: Int
    public var bytes: ArraySlice<UInt8>
    /// Set for a segment of the fill log (stored in `checkpoint_fills`, before the checkpoint's
    /// own pieces); nil for a piece of the checkpoint itself.
    public var logSegment: LogSegment?
    /// For the checkpoint's own pieces: how many fills of the log it stands on (nil: it holds
    /// its fills itself).
    public var fillCount: Int64?

    /// The piece that makes the checkpoint visible.
    public var isLast: Bool { logSegment == nil && index == count - 1 }

    public init(seq: Seq, index: Int, count: Int, totalBytes: Int, bytes: ArraySlice<UInt8>, fillCount: Int64? = nil) {
        self.seq = seq
        self.index = index
        self.count = count
        self.totalBytes = totalBytes
        self.bytes = bytes
        self.fillCount = fillCount
    }

    /// A segment of the fill log, stored with the checkpoint `seq`.
    public init(seq: Seq, logSegment: LogSegment, bytes: [UInt8]) {
        self.init(seq: seq, index: 0, count: 1, totalBytes: bytes.count, bytes: bytes[...])
        self.logSegment = logSegment
    }

    /// `state` cut into pieces of at most `pieceBytes` (one piece, possibly empty, at least).
    /// The slices share the array's storage: nothing is copied until a piece is bound.
    public static func split(seq: Seq, state: [UInt8], pieceBytes: Int, fillCount: Int64? = nil) -> [CheckpointPiece] {
        let size = max(1, pieceBytes)
        let count = max(1, (state.count + size - 1) / size)
        return (0..<count).map { index in
            let start = index * size
            return CheckpointPiece(seq: seq, index: index, count: count, totalBytes: state.count,
                                   bytes: state[start..<min(state.count, start + size)], fillCount: fillCount)
        }
    }
}

/// The idempotency key of one order event: an order id and the version of that step.
public struct OrderVersion: Sendable, Hashable {
    public var orderId: String
    public var version: Int64

    public init(orderId: String, version: Int64) {
        self.orderId = orderId
        self.version = version
    }
}
