import Glibc

/// A point on the monotonic clock, in nanoseconds. Deadlines and timeouts use it so a wall-clock
/// jump never fires or starves a timer.
public struct Monotonic: Comparable, Sendable, Hashable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static func now() -> Monotonic {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Monotonic(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    public func adding(seconds: Double) -> Monotonic {
        Monotonic(nanoseconds: nanoseconds + Int64(seconds * 1e9))
    }

    public func seconds(since earlier: Monotonic) -> Double {
        Double(nanoseconds - earlier.nanoseconds) / 1e9
    }

    public static func < (a: Monotonic, b: Monotonic) -> Bool { a.nanoseconds < b.nanoseconds }
}
