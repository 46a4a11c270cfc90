/// Every message caused by one committed event.
public struct CommittedEvent: Sendable {
    public let seq: Int64
    public let messages: [OutboundMessage]
    public init(seq: Int64, messages: [OutboundMessage]) { self.seq = seq; self.messages = messages }
}
