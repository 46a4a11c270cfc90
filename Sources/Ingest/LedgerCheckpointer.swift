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
/// (its next change copies only the storage it touches). Encoding a day's fills takes ~0.1 s at a
/// million fills: on the writer's thread it would be a stall every subscriber sees. The encoded
/// checkpoint (36 MiB at a million fills) would be one as well if one commit stored it, so it is
/// cut into pieces of `pieceBytes` and each commit carries the next piece (see `CheckpointPiece`).
/// A piece is handed out again until a commit that held it succeeds, so a failed commit only
/// delays the checkpoint. No new checkpoint starts until the last piece of the previous one is
/// stored. Writer's thread only, except the encoding itself.
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

    /// Where the encoder leaves its result; the only state the encoding thread touches.
    private final class EncodedSlot: Sendable {
        let value = Mutex<(seq: Seq, state: [UInt8])?>(nil)
        let ready = DispatchSemaphore(value: 0)
    }

    init(every: Int, seconds: Double, pieceBytes: Int) {
        self.every = every
        self.seconds = seconds
        self.pieceBytes = pieceBytes
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
        let copy = ledger, slot = self.slot
        DispatchQueue.global(qos: .utility).async {
            let state = copy.encodeState()
            slot.value.withLock { $0 = (seq, state) }
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
            guard let next = unstored.first, next.seq == piece.seq, next.index == piece.index else { continue }
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
        unstored = CheckpointPiece.split(seq: encoded.seq, state: encoded.state, pieceBytes: pieceBytes)[...]
    }
}
