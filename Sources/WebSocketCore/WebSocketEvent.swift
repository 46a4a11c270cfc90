/// What a client sent, one complete message or control frame at a time.
public enum WebSocketEvent: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    /// Pongs are delivered (also unsolicited ones, RFC 6455 §5.5.3); the server may ignore them.
    case pong([UInt8])
    /// `code` is nil when the close frame had no payload (reported as 1005 by other stacks).
    case close(code: CloseCode?, reason: String)
}

/// Per-connection message limits; violations close with 1009.
public struct WebSocketLimits: Sendable, Equatable {
    /// Largest reassembled message (sum of its fragments' payloads).
    public var maxMessageBytes = 1 << 20
    /// Most frames one message may be split into: a stream of tiny fragments costs per-frame
    /// work without growing the size, so it is bounded separately (also 1009, "too big" in frames).
    public var maxFramesPerMessage = 1024

    public init() {}
}
