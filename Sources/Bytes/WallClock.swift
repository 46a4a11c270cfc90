import Glibc

/// Wall-clock time in nanoseconds since the Unix epoch (for event times, not for timeouts).
public func wallClockNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// An instant as integer nanoseconds since the Unix epoch (UTC). Event times are stored and
/// compared in this form; `isoString` is the one spelling shown to people.
public typealias Nanos = Int64
