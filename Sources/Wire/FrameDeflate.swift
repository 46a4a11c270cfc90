import Bytes
import WebSocketCore

/// How one subscriber's frames are compressed (permessage-deflate as negotiated): the window the
/// client allows and the endpoint's threshold. Subscribers with the same value share compressed
/// bytes (one compression per message, see `OutboundMessage.frame(for:deflate:using:)`).
public struct FrameDeflate: Hashable, Sendable {
    public var windowBits: Int
    /// 0: every data message (`on`); above 0: messages at least this long that shrink (`auto`).
    public var minimumBytes: Int

    public init(windowBits: Int, minimumBytes: Int) {
        self.windowBits = windowBits
        self.minimumBytes = minimumBytes
    }

    /// Complete server frames with their data payloads compressed (control frames unchanged).
    public func apply(to frames: SharedBuffer, using deflater: MessageDeflater) -> SharedBuffer {
        SharedBuffer(deflater.deflateFrames(frames.bytes, windowBits: windowBits, minimumBytes: minimumBytes))
    }
}
