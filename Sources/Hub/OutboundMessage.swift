import Reactor
import WebSocketCore

/// One subscriber message, encoded once per format as complete WebSocket text frames.
///
/// Built on the ingest thread right after the commit; the loop only decides who gets it and
/// queues the same buffer on each of them.
public struct OutboundMessage: Sendable {
    public let channel: Channel
    public let account: String?
    public let instrument: String?
    /// The JSON text (also what the journal stores for resumes).
    public let json: String
    public let jsonFrame: SharedBuffer
    public let textFrame: SharedBuffer

    public init(channel: Channel, account: String?, instrument: String?, json: String, text: String) {
        self.channel = channel
        self.account = account
        self.instrument = instrument
        self.json = json
        jsonFrame = Frames.text(json)
        textFrame = Frames.text(text)
    }

    public func frame(for format: WireFormat) -> SharedBuffer {
        format == .json ? jsonFrame : textFrame
    }
}

/// Every message caused by one committed event.
public struct CommittedEvent: Sendable {
    public let seq: Int64
    public let messages: [OutboundMessage]
    public init(seq: Int64, messages: [OutboundMessage]) { self.seq = seq; self.messages = messages }
}

public enum Frames {
    /// A complete unmasked text frame in one buffer (header and payload contiguous, one iovec).
    public static func text(_ payload: String) -> SharedBuffer {
        let bytes = Array(payload.utf8)
        return SharedBuffer(concatenating: [FrameEncoder.header(.text, payloadLength: bytes.count), bytes])
    }
}
