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
