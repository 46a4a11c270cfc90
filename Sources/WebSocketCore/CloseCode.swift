/// A close status code (RFC 6455 §7.4), including Ladderwire's own 4xxx codes.
public struct CloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let normal = CloseCode(1000)
    public static let goingAway = CloseCode(1001)
    public static let protocolError = CloseCode(1002)
    public static let unsupportedData = CloseCode(1003)
    /// Reported locally for a close without a code; never sent.
    public static let noStatus = CloseCode(1005)
    /// Reported locally for a connection lost without a close; never sent.
    public static let abnormal = CloseCode(1006)
    public static let invalidPayload = CloseCode(1007)
    public static let policyViolation = CloseCode(1008)
    public static let messageTooBig = CloseCode(1009)
    public static let mandatoryExtension = CloseCode(1010)
    public static let internalError = CloseCode(1011)
    /// Ladderwire: the subscriber's token expired during the connection.
    public static let tokenExpired = CloseCode(4001)
    /// Ladderwire: the outbound buffer passed its cap; resume with `since`.
    public static let slowConsumer = CloseCode(4008)

    /// Whether a peer may put `code` in a close frame. 1000–1003 and 1007–1011 are the RFC 6455
    /// codes; 3000–4999 are registered/private. 1012–1014 are IANA-registered later (restart,
    /// try again, bad gateway) but not defined by RFC 6455, so, like the Autobahn suite expects
    /// of a strict endpoint, we refuse them with 1002 as well; 1004–1006 and 1015 are reserved
    /// (never on the wire), everything below 1000, 1016–2999 and above 4999 is invalid.
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: true
        default: false
        }
    }

    public var description: String { String(rawValue) }
}
