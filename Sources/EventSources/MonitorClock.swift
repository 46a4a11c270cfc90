import Bytes
import Foundation

/// Wall time and sleeping, injectable so tests can check pacing and backoff without sleeping.
public protocol MonitorClock: Sendable {
    /// Nanoseconds since the Unix epoch.
    func now() -> Int64
    /// Waits `nanoseconds`; returns false when `stopping` was signalled first.
    func sleep(nanoseconds: Int64, stopping: StopSignal) -> Bool
}

/// The real clock: the wall clock for time, the stop signal's condition for sleeping.
public struct SystemClock: MonitorClock {
    public init() {}

    public func now() -> Int64 { wallClockNanos() }

    public func sleep(nanoseconds: Int64, stopping: StopSignal) -> Bool {
        stopping.sleep(nanoseconds: nanoseconds)
    }
}
