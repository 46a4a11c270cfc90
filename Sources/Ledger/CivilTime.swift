/// Calendar arithmetic by hand (Howard Hinnant's days-from-civil), so the ledger needs no
/// Foundation Date, Calendar or TimeZone and behaves identically everywhere.
enum CivilTime {
    static let nanosPerSecond: Int64 = 1_000_000_000
    static let nanosPerDay: Int64 = 86_400 * nanosPerSecond

    /// Days since 1970-01-01 for a proleptic Gregorian date.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day count since 1970-01-01.
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// 0 = Sunday … 6 = Saturday.
    static func weekday(days: Int64) -> Int64 {
        let w = (days + 4) % 7   // 1970-01-01 was a Thursday
        return w >= 0 ? w : w + 7
    }

    /// a mod b in 0..<b for positive b (no multiplication, so no overflow at the extremes).
    static func floorModulo(_ a: Int64, _ b: Int64) -> Int64 {
        let r = a % b
        return r < 0 ? r + b : r
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

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

/// "2026-11-24T14:30:00.123Z": UTC with milliseconds (sub-millisecond nanos are truncated).
public func isoString(_ nanos: Nanos) -> String {
    let t = UTCFields(nanos: nanos)
    func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
    return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2)).\(pad(t.millisecond, 3))Z"
}

/// Parses "2026-11-24T14:30:00Z", "2026-11-24T14:30:00.123Z" (up to 9 fraction digits) and a
/// numeric offset ("+01:00", "-05:00") instead of "Z". Nil for anything else.
public func parseISO8601(_ text: String) -> Nanos? {
    let bytes = Array(text.utf8)
    var index = 0
    func number(_ width: Int) -> Int64? {
        guard index + width <= bytes.count else { return nil }
        var value: Int64 = 0
        for byte in bytes[index..<index + width] {
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int64(byte - 48)
        }
        index += width
        return value
    }
    func expect(_ character: Character) -> Bool {
        guard index < bytes.count, bytes[index] == character.asciiValue! else { return false }
        index += 1
        return true
    }
    guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
          expect("T") || expect("t") || expect(" "),
          let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
    else { return nil }
    guard (1...12).contains(month), day >= 1, hour <= 23, minute <= 59, second <= 60 else { return nil }
    let monthLengths: [Int64] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    guard day <= monthLengths[Int(month - 1)] + (month == 2 && leap ? 1 : 0) else { return nil }
    var fraction: Int64 = 0
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        index += 1
        var digits = 0
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
            guard digits < 9 else { return nil }
            fraction = fraction * 10 + Int64(bytes[index] - 48)
            digits += 1
            index += 1
        }
        guard digits > 0 else { return nil }
        for _ in digits..<9 { fraction *= 10 }
    }
    var offsetSeconds: Int64 = 0
    if expect("Z") || expect("z") {
        // UTC
    } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
        let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
        index += 1
        guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2),
              offsetHours <= 23, offsetMinutes <= 59 else { return nil }
        offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
    } else {
        return nil
    }
    guard index == bytes.count else { return nil }
    let days = CivilTime.days(year: year, month: month, day: day)
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
    // Nanos since 1970 in Int64 reach only to 2262: later (or much earlier) times are refused.
    let (nanos, overflow) = seconds.multipliedReportingOverflow(by: CivilTime.nanosPerSecond)
    let (total, overflowFraction) = nanos.addingReportingOverflow(fraction)
    return overflow || overflowFraction ? nil : total
}
