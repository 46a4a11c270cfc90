import Bytes
import Dispatch
import Journal
import Ledger
import Synchronization

/// When to checkpoint the ledger, the encoding done off the writer's thread, and the storing of
/// the result a piece per commit.
///
/// A checkpoint is due every `every` committed events, or after `seconds` with events in between.
/// The ledger is a value, so the copy handed to the encoder is taken in O(1) and ingest goes on
/// (its next change copies only the storage it touches). Checkpoints are incremental: each
/// stores the fills that arrived since the previous one as segments of the shared fill log, and
/// a head with the rest of the state (`Ledger.checkpoint(fillsFrom:segmentBytes:)`); re-encoding
/// every fill cost ~110 µs of CPU per event at a million fills. The first checkpoint after a start
/// from an older format writes the whole log, so every piece is at most ~`pieceBytes` and each
/// commit carries the next piece (see `CheckpointPiece`). A piece is handed out again until a
/// commit that held it succeeds, so a failed commit only delays the checkpoint. No new checkpoint
/// starts until the last piece of the previous one is stored. Writer's thread only, except the
/// encoding itself.
final class LedgerCheckpointer {
    private let every: Int
    private let seconds: Double
    private let pieceBytes: Int
    private var eventsSinceLast = 0
    private var last = Monotonic.now()
    private var encoding = false
    /// The pieces of the encoded checkpoint not yet committed, in order.
    private var unstored: ArraySlice<CheckpointPiece> = []
    private let slot = EncodedSlot()
    /// Fills of the log stored (or being stored) by the checkpoints so far: the next one starts there.
    private var logEnd: Int

    /// Where the encoder leaves its result; the only state the encoding thread touches.
    private final class EncodedSlot: Sendable {
        let value = Mutex<(seq: Seq, cut: LedgerCheckpoint)?>(nil)
        let ready = DispatchSemaphore(value: 0)
    }

    /// `logStored`: how many fills of the log the newest stored checkpoint stands on (0 if none,
    /// or if it holds its fills itself). `eventsSinceStored`: the events recovery replayed after
    /// it, which count toward the next checkpoint: otherwise a server killed every few thousand
    /// events would never checkpoint, and each restart would replay more.
    init(every: Int, seconds: Double, pieceBytes: Int, logStored: Int, eventsSinceStored: Int) {
        self.every = every
        self.seconds = seconds
        self.pieceBytes = pieceBytes
        self.logEnd = logStored
        self.eventsSinceLast = eventsSinceStored
    }

    /// A checkpoint is being encoded or stored.
    private var inFlight: Bool { encoding || !unstored.isEmpty }

    /// Counts committed events; starts an encoding when the count is reached.
    func committed(_ events: Int, ledger: Ledger, seq: Seq) {
        eventsSinceLast += events
        if eventsSinceLast >= every { start(ledger: ledger, seq: seq) }
    }

    /// The time-based checkpoint: between batches, only when events arrived since the last one.
    func startIfDue(ledger: Ledger, seq: Seq) {
        guard eventsSinceLast > 0, Monotonic.now().seconds(since: last) >= seconds else { return }
        start(ledger: ledger, seq: seq)
    }

    private func start(ledger: Ledger, seq: Seq) {
        guard !inFlight else { return }
        encoding = true
        eventsSinceLast = 0
        last = Monotonic.now()
        let copy = ledger, slot = self.slot, from = logEnd, pieceBytes = self.pieceBytes
        DispatchQueue.global(qos: .utility).async {
            let cut = copy.checkpoint(fillsFrom: from, segmentBytes: pieceBytes)
            slot.value.withLock { $0 = (seq, cut) }
            slot.ready.signal()
        }
    }

    /// The piece the next commit should store (none while nothing is encoded; never waits).
    func nextPiece() -> [CheckpointPiece] {
        takeEncodedIfReady()
        return unstored.first.map { [$0] } ?? []
    }

    /// `pieces` (handed out by this checkpointer) are committed.
    func stored(_ pieces: [CheckpointPiece]) {
        for piece in pieces {
            // A log segment's index is always 0: its range tells segments of one checkpoint apart.
            guard let next = unstored.first, next.seq == piece.seq, next.index == piece.index,
                  next.logSegment == piece.logSegment else { continue }
            unstored.removeFirst()
        }
    }

    /// A clean stop stores a checkpoint as recent as the work allowed: every piece not yet
    /// stored, waiting for an encoding in flight (one commit; nobody is waiting on a stop's).
    func finishInFlight() -> [CheckpointPiece] {
        if encoding {
            slot.ready.wait()
            slot.ready.signal()
            takeEncodedIfReady()
        }
        return Array(unstored)
    }

    private func takeEncodedIfReady() {
        guard encoding, slot.ready.wait(timeout: .now()) == .success else { return }
        encoding = false
        guard let encoded = slot.value.withLock({ value in
            defer { value = nil }
            return value
        }) else { return }
        let cut = encoded.cut
        let log = cut.segments.map { segment in
            CheckpointPiece(seq: encoded.seq, logSegment: .init(first: Int64(segment.first), count: Int64(segment.count)),
                            bytes: segment.bytes)
        }
        let head = CheckpointPiece.split(seq: encoded.seq, state: cut.head, pieceBytes: pieceBytes, fillCount: Int64(cut.fillCount))
        unstored = (log + head)[...]
        logEnd = cut.fillCount
    }
}
