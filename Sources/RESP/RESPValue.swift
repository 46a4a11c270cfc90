/// One RESP2 reply from a Redis server (https://redis.io/docs/latest/develop/reference/protocol-spec/).
///
/// Ladderwire speaks RESP2 only (it never sends `HELLO 3`), so these five types are everything a
/// server may answer; any other leading byte is a protocol error.
public enum RESPValue: Equatable, Sendable {
    /// `+OK\r\n`
    case simple(String)
    /// `-ERR message\r\n`: the server refused this command (the connection stays usable).
    case error(String)
    /// `:42\r\n`
    case integer(Int64)
    /// `$3\r\nabc\r\n`; nil for the null bulk string `$-1\r\n`.
    case bulk([UInt8]?)
    /// `*2\r\n…`; nil for the null array `*-1\r\n` (e.g. `XREAD BLOCK` that timed out).
    case array([RESPValue]?)

    /// The bytes of a bulk or simple string as text (UTF-8, invalid bytes replaced).
    public var text: String? {
        switch self {
        case .simple(let text): return text
        case .bulk(let bytes?): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// The elements of a non-null array.
    public var elements: [RESPValue]? {
        if case .array(let items?) = self { return items }
        return nil
    }

    public var isNull: Bool {
        switch self {
        case .bulk(nil), .array(nil): return true
        default: return false
        }
    }
}
