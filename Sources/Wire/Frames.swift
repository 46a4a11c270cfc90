import Bytes
import JSON
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

    /// A text frame whose payload is what `json` holds, in one allocation: the header (the one
    /// `FrameEncoder` spells) and the JSON copied once, with no payload array or list of parts.
    public static func text(json: borrowing JSONBytes) -> SharedBuffer {
        let header = FrameEncoder.header(.text, payloadLength: json.count)
        return SharedBuffer(count: header.count + json.count) { frame in
            frame.copyBytes(from: header)
            json.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: frame[header.count...]))
        }
    }
}
