import Bytes
import JSON
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
    /// The JSON bytes (also what the journal stores for resumes).
    public let jsonBytes: [UInt8]
    public let jsonFrame: SharedBuffer
    /// What the text line is rendered from, only if a text subscriber ever asks (stored, not
    /// captured in a closure: one allocation less per message on the hot path).
    private let textSource: (message: SubscriberMessage, encoder: MessageEncoder)?
    private var cachedTextFrame: SharedBuffer?
    /// Compressed frames by (format, deflate): each compressed once, whatever the subscribers.
    private var deflatedFrames: [DeflatedKey: SharedBuffer] = [:]
    private struct DeflatedKey: Hashable {
        var format: WireFormat
        var deflate: FrameDeflate
    }

    /// A message of the wire schema: its JSON written now (the hot path), its text line
    /// rendered from the same value only if a text subscriber ever asks.
    public convenience init(_ message: SubscriberMessage, encoder: MessageEncoder) {
        self.init(message, json: encoder.json(message), encoder: encoder)
    }

    /// A message whose JSON the encoder has just written (`MessageEncoder.messages(for:seq:)`).
    init(_ message: SubscriberMessage, json: [UInt8], encoder: MessageEncoder) {
        let route = message.route
        channel = route.channel
        account = route.account
        instrument = route.instrument
        jsonBytes = json
        jsonFrame = Frames.text(bytes: json)
        textSource = (message, encoder)
    }

    /// A message whose bytes were made elsewhere, with its text line (the hub's tests, which
    /// need frames but no instrument catalog).
    public init(channel: Channel, account: String?, instrument: String?, json: String, text: String) {
        self.channel = channel
        self.account = account
        self.instrument = instrument
        jsonBytes = Array(json.utf8)
        jsonFrame = Frames.text(bytes: jsonBytes)
        cachedTextFrame = Frames.text(text)
        textSource = nil
    }

    /// The JSON as text (tests and diagnostics; the hot path uses the bytes).
    public var json: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// Loop thread only.
    public var textFrame: SharedBuffer {
        if let cachedTextFrame { return cachedTextFrame }
        let frame = Frames.text(textSource.map { TextRenderer(encoder: $0.encoder).line($0.message) } ?? json)
        cachedTextFrame = frame
        return frame
    }

    public func frame(for format: WireFormat) -> SharedBuffer {
        format == .json ? jsonFrame : textFrame
    }

    /// The frame for a subscriber with permessage-deflate (`deflate` non-nil): compressed on
    /// first use and kept, so every subscriber with the same format and deflate gets the same
    /// bytes. Loop thread only.
    public func frame(for format: WireFormat, deflate: FrameDeflate?, using deflater: MessageDeflater?) -> SharedBuffer {
        let plain = frame(for: format)
        guard let deflate, let deflater else { return plain }
        let key = DeflatedKey(format: format, deflate: deflate)
        if let cached = deflatedFrames[key] { return cached }
        let compressed = deflate.apply(to: plain, using: deflater)
        deflatedFrames[key] = compressed
        return compressed
    }
}
