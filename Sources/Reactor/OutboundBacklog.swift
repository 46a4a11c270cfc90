import Bytes

/// Judges a connection's outbound backlog by progress, never by the size of one message
/// (in the spirit of uWebSockets' `maxBackpressure` with a drain deadline, and Redis's soft
/// `client-output-buffer-limit`).
///
/// - Up to `cap` bytes may wait indefinitely.
/// - Over `cap`, a window of `drainSeconds` starts. When it ends, the connection is falling
///   behind if the backlog did not shrink during the window: it drained less than was queued
///   for it meanwhile (a peer that reads nothing, or slower than its stream). Otherwise a new
///   window starts: a reader working through a 16 MiB echo or a large batch is never cut,
///   however long that takes, as long as every window leaves less waiting than the one before.
/// - Over `hardCap` the connection is falling behind at once: memory stays bounded whatever the
///   pace.
///
/// Pure (the caller passes the clock), so it is tested without sockets.
public struct OutboundBacklog: Sendable, Equatable {
    public var cap: Int
    public var hardCap: Int
    public var drainSeconds: Double
    /// When the queue went over the cap (the current window's start); nil while under it.
    public private(set) var windowStart: Monotonic?
    private var queuedAtWindowStart = 0

    public init(cap: Int, hardCap: Int, drainSeconds: Double) {
        self.cap = cap
        self.hardCap = max(hardCap, cap)
        self.drainSeconds = drainSeconds
    }

    /// `queued`: bytes waiting now. True when the connection is falling behind.
    public mutating func isFallingBehind(queued: Int, now: Monotonic) -> Bool {
        if queued <= cap {
            windowStart = nil
            return false
        }
        if queued > hardCap { return true }
        guard let start = windowStart else {
            windowStart = now
            queuedAtWindowStart = queued
            return false
        }
        guard now.seconds(since: start) >= drainSeconds else { return false }
        if queued >= queuedAtWindowStart { return true }
        windowStart = now
        queuedAtWindowStart = queued
        return false
    }
}
