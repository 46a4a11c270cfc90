import Bytes
import WebSocketCore

/// Complete unmasked server frames, built once and shared by every subscriber that gets them.
public enum Frames {
    /// A text frame in one buffer (header and payload contiguous, one iovec).
    public static func text(_ payload: String) -> SharedBuffer {
        text(bytes: Array(payload.utf8))
    }

    /// A text frame from payload bytes already encoded (`JSONBytes`), without the round trip
    /// through `String`.
    public static func text(bytes payload: [UInt8]) -> SharedBuffer {
        SharedBuffer(concatenating: [FrameEncoder.header(.text, payloadLength: payload.count), payload])
    }
}
