/// The UTC calendar fields of an instant (milliseconds; sub-millisecond nanos truncated). Public
/// so that writers of other spellings (the hub's byte-level JSON) share this arithmetic.
public struct UTCFields: Sendable, Equatable {
    public var year: Int64
    public var month: Int64
    public var day: Int64
    public var hour: Int64
    public var minute: Int64
    public var second: Int64
    public var millisecond: Int64

    public init(nanos: Nanos) {
        // Floor division: times before 1970 fall on the previous day, not day 0.
        let days = CivilTime.floorDivide(nanos, CivilTime.nanosPerDay)
        let inDay = CivilTime.floorModulo(nanos, CivilTime.nanosPerDay)
        (year, month, day) = CivilTime.civil(days: days)
        let seconds = inDay / CivilTime.nanosPerSecond
        hour = seconds / 3600
        minute = seconds / 60 % 60
        second = seconds % 60
        millisecond = (inDay % CivilTime.nanosPerSecond) / 1_000_000
    }
}
