import Bytes

/// America/Chicago wall-clock time without a time-zone database: US rules since 2007, daylight
/// time from the second Sunday of March 02:00 CST to the first Sunday of November 02:00 CDT.
public enum ChicagoTime {
    /// Chicago's offset from UTC in seconds at an instant: -18000 (CDT) or -21600 (CST).
    public static func utcOffsetSeconds(at nanos: Nanos) -> Int64 {
        let days = CivilTime.floorDivide(nanos, CivilTime.nanosPerDay)
        let year = CivilTime.civil(days: days).year
        let seconds = CivilTime.floorDivide(nanos, CivilTime.nanosPerSecond)
        // 02:00 CST = 08:00 UTC; 02:00 CDT = 07:00 UTC.
        let dstStart = nthSunday(year: year, month: 3, n: 2) * 86_400 + 8 * 3600
        let dstEnd = nthSunday(year: year, month: 11, n: 1) * 86_400 + 7 * 3600
        return (seconds >= dstStart && seconds < dstEnd) ? -5 * 3600 : -6 * 3600
    }

    /// Days since the epoch of the n-th Sunday of a month.
    static func nthSunday(year: Int64, month: Int64, n: Int64) -> Int64 {
        let first = CivilTime.days(year: year, month: month, day: 1)
        let toSunday = (7 - CivilTime.weekday(days: first)) % 7
        return first + toSunday + 7 * (n - 1)
    }

    /// Local wall-clock (days since epoch, nanos into that local day).
    static func local(_ nanos: Nanos) -> (days: Int64, nanosInDay: Int64) {
        // Saturating, so the extremes of Int64 give an answer instead of a trap.
        let (shifted, overflow) = nanos.addingReportingOverflow(utcOffsetSeconds(at: nanos) * CivilTime.nanosPerSecond)
        let local = overflow ? nanos : shifted
        let days = CivilTime.floorDivide(local, CivilTime.nanosPerDay)
        return (days, CivilTime.floorModulo(local, CivilTime.nanosPerDay))
    }
}

/// The trading day (yyyymmdd) an instant belongs to: at or after the instrument's day end
/// (17:00 America/Chicago by default) it is the next day; Saturday and Sunday roll forward to
/// Monday, so Friday 17:00 CT onward and Sunday's evening session belong to Monday.
public func tradingDay(for nanos: Nanos, instrument: Instrument) -> Int {
    tradingDay(for: nanos, dayEndMinutes: instrument.tradingDayEndMinutes)
}

/// Same as `tradingDay(for:instrument:)` with the day end in minutes after local midnight.
public func tradingDay(for nanos: Nanos, dayEndMinutes: Int = 17 * 60) -> Int {
    let (localDays, nanosInDay) = ChicagoTime.local(nanos)
    var days = localDays
    let dayEnd = Int64(max(0, min(dayEndMinutes, 24 * 60)))
    if nanosInDay >= dayEnd * 60 * CivilTime.nanosPerSecond { days += 1 }
    switch CivilTime.weekday(days: days) {
    case 6: days += 2
    case 0: days += 1
    default: break
    }
    let (year, month, day) = CivilTime.civil(days: days)
    return Int(year * 10_000 + month * 100 + day)
}

/// The UTC instant at which the trading day containing `nanos` ends (the next day-end wall time
/// in Chicago at or after `nanos`, skipping the weekend): when the server should apply `.dayRoll`.
public func tradingDayEnd(after nanos: Nanos, dayEndMinutes: Int = 17 * 60) -> Nanos {
    let current = tradingDay(for: nanos, dayEndMinutes: dayEndMinutes)
    // Trading day D (always a weekday) ends on local date D at the day-end wall time.
    let year = Int64(current / 10_000), month = Int64(current / 100 % 100), day = Int64(current % 100)
    let endDays = CivilTime.days(year: year, month: month, day: day)
    let (dayStart, overflow) = endDays.multipliedReportingOverflow(by: CivilTime.nanosPerDay)
    guard !overflow, dayStart < Int64.max - 2 * CivilTime.nanosPerDay else { return Int64.max }
    let localEnd = dayStart + Int64(max(0, min(dayEndMinutes, 24 * 60))) * 60 * CivilTime.nanosPerSecond
    // Try both offsets; the right one maps back to the same local wall time.
    for offset in [Int64(-5 * 3600), Int64(-6 * 3600)] {
        let utc = localEnd - offset * CivilTime.nanosPerSecond
        if ChicagoTime.utcOffsetSeconds(at: utc) == offset { return utc }
    }
    return localEnd + 6 * 3600 * CivilTime.nanosPerSecond
}
