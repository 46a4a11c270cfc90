import Bytes
import JSON
import Synchronization
import WebSocketCore

/// One subscriber message, encoded once, when first needed: its JSON frame when a JSON
/// subscriber, the stream publisher or an edge first asks for it; its text frame when a text
/// subscriber does; each compressed frame when a subscriber with that compression does.
///
/// Nothing is encoded at commit. A fill causes ~10 messages (its position and P&L in every
/// account holding the instrument, the desk's P&L), and a subscriber to `fills` alone, or an
/// ingest run nobody watches, used to pay for all of them on the commit path. The encoding is
/// the same whenever it happens: the message is an immutable value and the encoder is pure.
///
/// The caches sit behind a lock because a message is built on the writer (the loop, or the
/// ingest thread under `full`) and read on the loop and by the stream publisher: an
/// uncontended lock is a few instructions, and it makes the sharing checked, not asserted.
public final class OutboundMessage: Sendable {
    public let channel: Channel
    public let account: String?
    public let instrument: String?
    /// What the frames are written from (nil: the frames were made elsewhere, see the test init).
    private let source: (message: SubscriberMessage, encoder: MessageEncoder)?
    private let cache: Mutex<Cache>

    private struct Cache {
        /// The JSON frame and where its payload starts (after the header).
        var jsonFrame: (frame: SharedBuffer, payloadOffset: Int)?
        var textFrame: SharedBuffer?
        /// Compressed frames by (format, deflate): each compressed once, whatever the subscribers.
        var deflatedFrames: [DeflatedKey: SharedBuffer] = [:]
    }
    private struct DeflatedKey: Hashable {
        var format: WireFormat
        var deflate: FrameDeflate
    }

    /// A message of the wire schema, written by `encoder` when first asked for.
    public init(_ message: SubscriberMessage, encoder: MessageEncoder) {
        let route = message.route
        channel = route.channel
        account = route.account
        instrument = route.instrument
        source = (message, encoder)
        cache = Mutex(Cache())
    }

    /// A message whose bytes were made elsewhere, with its text line (the hub's tests, which
    /// need frames but no instrument catalog).
    public init(channel: Channel, account: String?, instrument: String?, json: String, text: String) {
        self.channel = channel
        self.account = account
        self.instrument = instrument
        source = nil
        let frame = Frames.text(json)
        cache = Mutex(Cache(jsonFrame: (frame, frame.count - json.utf8.count), textFrame: Frames.text(text)))
    }

    /// The JSON frame: header and payload in one buffer, written on first use.
    public var jsonFrame: SharedBuffer { renderedJSON.frame }

    /// The JSON object's bytes (the stream entry's messages, tests): the frame's payload.
    public var jsonBytes: [UInt8] {
        let json = renderedJSON
        return json.frame.bytes(from: json.payloadOffset)
    }

    private var renderedJSON: (frame: SharedBuffer, payloadOffset: Int) {
        cache.withLock { cache in
            if let json = cache.jsonFrame { return json }
            let json = renderJSONFrame()
            cache.jsonFrame = json
            return json
        }
    }

    /// The JSON as text (tests and diagnostics; the hot path uses the frame).
    public var json: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// The text line's frame, rendered on first use (most deployments have no text subscriber).
    public var textFrame: SharedBuffer {
        cache.withLock { cache in
            if let frame = cache.textFrame { return frame }
            guard let (message, encoder) = source else { preconditionFailure("a prebuilt message has its frames") }
            let frame = Frames.text(TextRenderer(encoder: encoder).line(message))
            cache.textFrame = frame
            return frame
        }
    }

    public func frame(for format: WireFormat) -> SharedBuffer {
        format == .json ? jsonFrame : textFrame
    }

    /// The frame for a subscriber with permessage-deflate (`deflate` non-nil): compressed on
    /// first use and kept, so every subscriber with the same format and deflate gets the same
    /// bytes.
    public func frame(for format: WireFormat, deflate: FrameDeflate?, using deflater: MessageDeflater?) -> SharedBuffer {
        let plain = frame(for: format)
        guard let deflate, let deflater else { return plain }
        let key = DeflatedKey(format: format, deflate: deflate)
        if let cached = cache.withLock({ $0.deflatedFrames[key] }) { return cached }
        // Compressed outside the lock; a second caller racing here gets the same bytes anyway
        // (the compressor is deterministic) and the first one stored wins.
        let compressed = deflate.apply(to: plain, using: deflater)
        return cache.withLock { cache in
            if let stored = cache.deflatedFrames[key] { return stored }
            cache.deflatedFrames[key] = compressed
            return compressed
        }
    }

    private func renderJSONFrame() -> (frame: SharedBuffer, payloadOffset: Int) {
        guard let (message, encoder) = source else { preconditionFailure("a prebuilt message has its frames") }
        var out = JSONBytes(reservingCapacity: 512)
        encoder.write(message, to: &out)
        let frame = Frames.text(json: out)
        return (frame, frame.count - out.count)
    }
}
