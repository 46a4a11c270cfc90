/// The server's bytes broke RESP: the connection cannot be trusted any further and must be
/// dropped (unlike `RESPValue.error`, which is an ordinary refused command).
public struct RESPProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "RESP protocol error: \(reason)" }
}

/// What a reply may cost before the parser refuses it. Redis's own defaults are far larger (a
/// 512 MB bulk string); these bound what one misbehaving or hostile peer can make us buffer.
public struct RESPLimits: Sendable, Equatable {
    /// Longest header line (type byte, digits or simple string) before its CRLF.
    public var maxLineBytes = 64 * 1024
    /// Largest bulk string.
    public var maxBulkBytes = 64 * 1024 * 1024
    /// Most elements in one array (one level).
    public var maxArrayCount = 1 << 20
    /// Deepest nesting of arrays (an XREAD reply is four levels deep).
    public var maxDepth = 16
    public init() {}
}
