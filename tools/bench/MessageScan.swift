/// Byte searches on received payloads, so the hot path never builds a JSON tree or a String.
enum MessageScan {
    static let execIdKey = Array("\"execId\":\"".utf8)
    static let refKey = Array("\"ref\":\"".utf8)

    /// The first index of `pattern` within `range` of `bytes`.
    static func find(_ pattern: [UInt8], in bytes: [UInt8], range: Range<Int>) -> Int? {
        guard range.count >= pattern.count, let first = pattern.first else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            pattern.withUnsafeBufferPointer { needle in
                var index = range.lowerBound
                let last = range.upperBound - needle.count
                while index <= last {
                    if buffer[index] == first {
                        var matched = 1
                        while matched < needle.count && buffer[index + matched] == needle[matched] { matched += 1 }
                        if matched == needle.count { return index }
                    }
                    index += 1
                }
                return nil
            }
        }
    }

    static func startsWith(_ prefix: [UInt8], in bytes: [UInt8], range: Range<Int>) -> Bool {
        guard range.count >= prefix.count else { return false }
        for offset in 0..<prefix.count where bytes[range.lowerBound + offset] != prefix[offset] { return false }
        return true
    }

    /// The event index in a value `"<runTag>-<index>"` that follows `key`, or nil when the message
    /// has no such key or the id belongs to another run.
    static func eventIndex(after key: [UInt8], runTag: [UInt8], in bytes: [UInt8], range: Range<Int>) -> Int? {
        guard let keyAt = find(key, in: bytes, range: range) else { return nil }
        var index = keyAt + key.count
        guard index + runTag.count + 1 < range.upperBound else { return nil }
        for byte in runTag {
            guard bytes[index] == byte else { return nil }
            index += 1
        }
        guard bytes[index] == UInt8(ascii: "-") else { return nil }
        index += 1
        var value = 0
        var digits = 0
        while index < range.upperBound, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
            digits += 1
        }
        return digits > 0 && index < range.upperBound && bytes[index] == UInt8(ascii: "\"") ? value : nil
    }
}
