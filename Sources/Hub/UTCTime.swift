import Ledger

/// The calendar fields of a UTC instant, for writing ISO times as bytes. The same
/// days-from-civil arithmetic as the ledger's `isoString` (which keeps its own internal), so the
/// two spellings agree to the byte; tests hold them together.
struct UTCTime {
    var year: Int64
    var month: Int64
    var day: Int64
    var hour: Int64
    var minute: Int64
    var second: Int64
    var millisecond: Int64

    private static let nanosPerSecond: Int64 = 1_000_000_000
    private static let nanosPerDay: Int64 = 86_400 * nanosPerSecond

    init(nanos: Nanos) {
        // Floor division and modulo: times before 1970 fall on the previous day, not day 0.
        var days = nanos / Self.nanosPerDay
        var inDay = nanos % Self.nanosPerDay
        if inDay < 0 { inDay += Self.nanosPerDay; days -= 1 }
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let seconds = inDay / Self.nanosPerSecond
        hour = seconds / 3600
        minute = seconds / 60 % 60
        second = seconds % 60
        millisecond = (inDay % Self.nanosPerSecond) / 1_000_000
    }
}
