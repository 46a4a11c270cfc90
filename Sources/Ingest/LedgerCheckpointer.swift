import Bytes
import Dispatch
import Journal
import Ledger
import Synchronization

/// When to checkpoint the ledger, and the encoding done off the ingest thread.
///
/// A checkpoint is due every `every` committed events, or after `seconds` with events in between.
/// The ledger is a value, so the copy handed to the encoder is taken in O(1) and ingest goes on
/// (its next change copies only the storage it touches); the bytes come back to be stored with a
/// later commit. Encoding a day's fills takes ~0.1 s at a million fills: on the ingest thread it
/// would be a stall every subscriber sees. Ingest thread only, except the encoding itself.
final class LedgerCheckpointer {
    private let every: Int
    private let seconds: Double
    private var eventsSinceLast = 0
    private var last = Monotonic.now()
    private var inFlight = false
    private let slot = EncodedSlot()

    /// Where the encoder leaves its result; the only state the encoding thread touches.
    private final class EncodedSlot: Sendable {
        let value = Mutex<(seq: Seq, state: [UInt8])?>(nil)
        let ready = DispatchSemaphore(value: 0)
    }

    init(every: Int, seconds: Double) {
        self.every = every
        self.seconds = seconds
    }

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
        inFlight = true
        eventsSinceLast = 0
        last = Monotonic.now()
        let copy = ledger, slot = self.slot
        DispatchQueue.global(qos: .utility).async {
            let state = copy.encodeState()
            slot.value.withLock { $0 = (seq, state) }
            slot.ready.signal()
        }
    }

    /// The encoded checkpoint if it is ready (never waits).
    func takeEncoded() -> (seq: Seq, state: [UInt8])? {
        guard inFlight, slot.ready.wait(timeout: .now()) == .success else { return nil }
        inFlight = false
        return slot.value.withLock { value in
            defer { value = nil }
            return value
        }
    }

    /// A clean stop stores a checkpoint as recent as the work allowed: wait for one in flight.
    func finishInFlight() -> (seq: Seq, state: [UInt8])? {
        guard inFlight else { return nil }
        slot.ready.wait()
        slot.ready.signal()
        return takeEncoded()
    }
}
