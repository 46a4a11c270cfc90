import Foundation

/// A one-way "please stop" flag that also wakes monitors sleeping between polls, so a stop
/// never waits out a 30 s backoff.
public final class StopSignal: Sendable {
    private let condition = NSCondition()
    nonisolated(unsafe) private var stopped = false   // guarded by `condition`

    public init() {}

    public var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    public func stop() {
        condition.lock(); stopped = true; condition.broadcast(); condition.unlock()
    }

    /// Sleeps up to `nanoseconds` of real time; returns false as soon as a stop is signalled.
    @discardableResult
    public func sleep(nanoseconds: Int64) -> Bool {
        let deadline = Date(timeIntervalSinceNow: TimeInterval(max(0, nanoseconds)) / 1e9)
        condition.lock(); defer { condition.unlock() }
        while !stopped {
            if !condition.wait(until: deadline) { break }
        }
        return !stopped
    }
}
