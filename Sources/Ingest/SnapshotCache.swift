import Bytes
import Synchronization
import Wire

/// The last snapshot frames built, all at one seq, reused while young: a connect storm, or a
/// viewer flooding `subscribe` while producers commit, costs one encode per `maxAgeNanos` per
/// filter instead of one per request. A reused frame is a few events old; the hub sends those
/// events right behind it (`Hub.deliverSnapshot`), so the client ends up exactly where a fresh
/// snapshot would have put it. Frames are written on the encoding queue, so the cache is shared
/// between it and the pipeline's driver.
final class SnapshotCache: Sendable {
    typealias Waiter = @Sendable (_ seq: Int64, _ frame: SharedBuffer) -> Void

    struct Key: Hashable, Sendable {
        var filter: SubscriptionFilter
        var format: WireFormat
        var resync: Bool
        var monitors: [String]
    }

    enum Lookup {
        case ready(seq: Int64, frame: SharedBuffer)
        /// The same frame is being written; the waiter gets it then.
        case joined
        /// The caller must write it (and call `finish`).
        case encode
    }

    /// How many events a reused frame may lag: well inside the hub's kept history (1,024).
    static let maxLagEvents: Int64 = 256
    static let maxAgeNanos: Int64 = 100_000_000
    /// More distinct filters than this at one seq and the frames start over.
    static let maxFrames = 64

    private struct State {
        var seq: Int64 = -1
        var takenAt: Int64 = 0
        var frames: [Key: SharedBuffer] = [:]
        var inFlight: [Key: (seq: Int64, waiters: [Waiter])] = [:]
    }
    private let state = Mutex(State())
    /// Frames written so far (cache misses that were not joined to one being written).
    let encodings = Atomic<Int>(0)

    private static func isUsable(_ state: State, at lastSeq: Int64, now: Int64) -> Bool {
        state.seq == lastSeq || (state.seq >= 0 && lastSeq - state.seq <= maxLagEvents && now - state.takenAt <= maxAgeNanos)
    }

    func lookup(_ key: Key, lastSeq: Int64, now: Int64, waiter: @escaping Waiter) -> Lookup {
        state.withLock { state in
            if Self.isUsable(state, at: lastSeq, now: now), let frame = state.frames[key] {
                return .ready(seq: state.seq, frame: frame)
            }
            // Join a frame being written, however far behind: the hub sends what it missed, or
            // refuses it (the endpoint asks again) when its kept history no longer reaches back.
            if var pending = state.inFlight[key] {
                pending.waiters.append(waiter)
                state.inFlight[key] = pending
                return .joined
            }
            state.inFlight[key] = (lastSeq, [waiter])
            encodings.add(1, ordering: .relaxed)
            return .encode
        }
    }

    /// Stores a frame written at `seq` (if the cache is not already at a later one) and returns
    /// everyone waiting for it.
    func finish(_ key: Key, seq: Int64, takenAt: Int64, frame: SharedBuffer) -> [Waiter] {
        state.withLock { state in
            var waiters: [Waiter] = []
            if let pending = state.inFlight.removeValue(forKey: key) { waiters = pending.waiters }
            if seq > state.seq || state.frames.count >= Self.maxFrames {
                // Frames of one cache share one seq: a newer one starts it over.
                state.frames.removeAll(keepingCapacity: true)
                state.seq = seq
                state.takenAt = takenAt
            }
            if seq == state.seq { state.frames[key] = frame }
            return waiters
        }
    }
}
