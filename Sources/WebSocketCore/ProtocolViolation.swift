/// A broken RFC 6455 rule, with the close code to send the peer (1002, 1007, 1009 …).
/// After one, the connection stays failed: send `close(violation.closeCode)` and hang up.
public struct ProtocolViolation: Error, Sendable, Equatable {
    public var closeCode: CloseCode
    public var reason: String

    public init(closeCode: CloseCode, reason: String) {
        self.closeCode = closeCode
        self.reason = reason
    }

    static func protocolError(_ reason: String) -> ProtocolViolation { .init(closeCode: .protocolError, reason: reason) }
    static func invalidPayload(_ reason: String) -> ProtocolViolation { .init(closeCode: .invalidPayload, reason: reason) }
    static func tooBig(_ reason: String) -> ProtocolViolation { .init(closeCode: .messageTooBig, reason: reason) }
}
