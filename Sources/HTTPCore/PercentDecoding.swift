/// Decodes `%XX` escapes into bytes; nil when an escape is truncated or not hex.
/// With `plusAsSpace` (query strings, `application/x-www-form-urlencoded`) `+` becomes a space.
public func percentDecode(_ text: some StringProtocol, plusAsSpace: Bool = false) -> [UInt8]? {
    percentDecode(bytes: text.utf8, plusAsSpace: plusAsSpace)
}

/// `percentDecode` on UTF-8 bytes (a query's parts, without making strings of them first).
func percentDecode(bytes text: some Collection<UInt8>, plusAsSpace: Bool) -> [UInt8]? {
    let utf8 = Array(text)
    var output: [UInt8] = []
    output.reserveCapacity(utf8.count)
    var index = 0
    while index < utf8.count {
        let byte = utf8[index]
        if byte == UInt8(ascii: "%") {
            guard index + 2 < utf8.count,
                  let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2])
            else { return nil }
            output.append(high << 4 | low)
            index += 3
        } else {
            output.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
    }
    return output
}

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}
