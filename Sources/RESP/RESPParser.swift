/// Sans-I/O RESP2 reply parser, in the shape of h11: `feed(_:)` hands it bytes as they arrive,
/// `next()` returns the next complete reply, nil when more bytes are needed, or throws
/// `RESPProtocolError`. After an error it keeps throwing the same error.
///
/// The result never depends on how the bytes were split: a value is parsed only once it is
/// complete, and every limit is judged at the byte that passes it (a header line longer than
/// `maxLineBytes` fails as soon as that many bytes without CRLF are buffered, whether or not
/// more follow). Incomplete values are re-scanned on the next feed; the scan of an incomplete
/// prefix stops at the first missing byte, so a reply is scanned O(size × feeds) at worst.
public struct RESPParser: Sendable {
    public let limits: RESPLimits
    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: RESPProtocolError?

    public init(limits: RESPLimits = RESPLimits()) { self.limits = limits }

    /// Bytes received and not yet returned as replies.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        guard failure == nil else { return }
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func next() throws(RESPProtocolError) -> RESPValue? {
        if let failure { throw failure }
        var cursor = start
        do {
            guard let value = try parseValue(at: &cursor, depth: 1) else { return nil }
            start = cursor
            if start == buffer.count {
                buffer.removeAll(keepingCapacity: buffer.count <= 64 * 1024)
                start = 0
            }
            return value
        } catch {
            failure = error
            buffer = []
            start = 0
            throw error
        }
    }

    /// Every complete reply buffered now.
    public mutating func drain() throws(RESPProtocolError) -> [RESPValue] {
        var replies: [RESPValue] = []
        while let reply = try next() { replies.append(reply) }
        return replies
    }

    // MARK: Scanning

    private static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

    /// The header line after the type byte at `cursor` (exclusive of CRLF); nil if incomplete.
    private func line(at cursor: inout Int) throws(RESPProtocolError) -> ArraySlice<UInt8>? {
        let lineStart = cursor
        var index = cursor
        while index < buffer.count {
            let byte = buffer[index]
            if byte == Self.cr {
                guard index + 1 < buffer.count else { return nil }
                guard buffer[index + 1] == Self.lf else { throw RESPProtocolError("CR not followed by LF in a header line") }
                cursor = index + 2
                return buffer[lineStart..<index]
            }
            if byte == Self.lf { throw RESPProtocolError("bare LF in a header line") }
            index += 1
            if index - lineStart > limits.maxLineBytes { throw RESPProtocolError("header line longer than \(limits.maxLineBytes) bytes") }
        }
        if index - lineStart > limits.maxLineBytes { throw RESPProtocolError("header line longer than \(limits.maxLineBytes) bytes") }
        return nil
    }

    /// A decimal integer with an optional minus sign, no other characters, no overflow.
    static func integer(_ digits: ArraySlice<UInt8>) -> Int64? {
        var rest = digits[...]
        var negative = false
        if rest.first == UInt8(ascii: "-") { negative = true; rest = rest.dropFirst() }
        guard !rest.isEmpty, rest.count <= 19 else { return nil }
        var value: Int64 = 0
        for byte in rest {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    private func parseValue(at cursor: inout Int, depth: Int) throws(RESPProtocolError) -> RESPValue? {
        guard cursor < buffer.count else { return nil }
        let type = buffer[cursor]
        var position = cursor + 1
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"): break
        default: throw RESPProtocolError("unknown reply type byte \(type)")
        }
        guard let header = try line(at: &position) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            cursor = position
            return .simple(String(decoding: header, as: UTF8.self))
        case UInt8(ascii: "-"):
            cursor = position
            return .error(String(decoding: header, as: UTF8.self))
        case UInt8(ascii: ":"):
            guard let value = Self.integer(header) else { throw RESPProtocolError("malformed integer reply") }
            cursor = position
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = Self.integer(header), length >= -1 else { throw RESPProtocolError("malformed bulk string length") }
            if length == -1 { cursor = position; return .bulk(nil) }
            guard length <= Int64(limits.maxBulkBytes) else { throw RESPProtocolError("bulk string of \(length) bytes is over the limit of \(limits.maxBulkBytes)") }
            let count = Int(length)
            let end = position + count
            // Check the terminator byte by byte as it arrives, so a wrong one fails at once.
            if end < buffer.count, buffer[end] != Self.cr { throw RESPProtocolError("bulk string not followed by CRLF") }
            if end + 1 < buffer.count, buffer[end + 1] != Self.lf { throw RESPProtocolError("bulk string not followed by CRLF") }
            guard end + 2 <= buffer.count else { return nil }
            cursor = end + 2
            return .bulk(Array(buffer[position..<end]))
        default:   // "*"
            guard let count = Self.integer(header), count >= -1 else { throw RESPProtocolError("malformed array length") }
            if count == -1 { cursor = position; return .array(nil) }
            guard count <= Int64(limits.maxArrayCount) else { throw RESPProtocolError("array of \(count) elements is over the limit of \(limits.maxArrayCount)") }
            guard count == 0 || depth < limits.maxDepth else { throw RESPProtocolError("arrays nested deeper than \(limits.maxDepth)") }
            var items: [RESPValue] = []
            items.reserveCapacity(min(Int(count), 1024))
            for _ in 0..<Int(count) {
                guard let item = try parseValue(at: &position, depth: depth + 1) else { return nil }
                items.append(item)
            }
            cursor = position
            return .array(items)
        }
    }
}
