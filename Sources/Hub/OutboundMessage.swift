import Reactor
import WebSocketCore

/// One subscriber message, encoded once: the JSON frame on the ingest thread right after the
/// commit; the text frame on first use by a text subscriber (most deployments have none, so the
/// hot path never renders text it would throw away).
///
/// Sendable by hand: everything is immutable after init except the text cache, which only the
/// loop thread touches (the hub is loop-confined).
public final class OutboundMessage: @unchecked Sendable {
    public let channel: Channel
    public let account: String?
    public let instrument: String?
    /// The JSON text (also what the journal stores for resumes).
    public let json: String
    public let jsonFrame: SharedBuffer
    private let value: JSONValue?
    /// Builds the value tree for the text rendering, only if a text subscriber ever asks.
    private let makeValue: (@Sendable () -> JSONValue)?
    private let renderer: TextRenderer?
    private var cachedTextFrame: SharedBuffer?

    public init(channel: Channel, account: String?, instrument: String?, json: String, text: String) {
        self.channel = channel
        self.account = account
        self.instrument = instrument
        self.json = json
        jsonFrame = Frames.text(json)
        cachedTextFrame = Frames.text(text)
        value = nil
        renderer = nil
        makeValue = nil
    }

    /// The hot path: JSON written straight to bytes (`MessageEncoder.encode`); the text line is
    /// rendered from a tree built on demand.
    public init(channel: Channel, account: String?, instrument: String?, jsonBytes: [UInt8], renderer: TextRenderer,
                makeValue: @escaping @Sendable () -> JSONValue) {
        self.channel = channel
        self.account = account
        self.instrument = instrument
        json = String(decoding: jsonBytes, as: UTF8.self)
        jsonFrame = Frames.text(bytes: jsonBytes)
        value = nil
        self.renderer = renderer
        self.makeValue = makeValue
    }

    public init(channel: Channel, account: String?, instrument: String?, value: JSONValue, renderer: TextRenderer) {
        self.channel = channel
        self.account = account
        self.instrument = instrument
        self.json = value.serialized
        jsonFrame = Frames.text(json)
        self.value = value
        self.renderer = renderer
        makeValue = nil
    }

    /// Loop thread only.
    public var textFrame: SharedBuffer {
        if let cachedTextFrame { return cachedTextFrame }
        let frame = Frames.text(renderer.map { $0.line(value ?? makeValue?() ?? .null) } ?? json)
        cachedTextFrame = frame
        return frame
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
