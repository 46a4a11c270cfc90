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

    /// A text frame whose payload is what `json` holds, in one allocation: the header is written
    /// in place and the JSON copied once (no payload array, header array or list of parts).
    public static func text(json: borrowing JSONBytes) -> SharedBuffer {
        let length = json.count
        let headerLength = length <= 125 ? 2 : length <= 0xFFFF ? 4 : 10
        return SharedBuffer(count: headerLength + length) { frame in
            frame[0] = 0x80 | Opcode.text.rawValue
            switch headerLength {
            case 2:
                frame[1] = UInt8(length)
            case 4:
                frame[1] = 126
                frame[2] = UInt8(length >> 8)
                frame[3] = UInt8(length & 0xFF)
            default:
                frame[1] = 127
                for index in 0..<8 { frame[2 + index] = UInt8(truncatingIfNeeded: UInt64(length) >> UInt64(56 - 8 * index)) }
            }
            json.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: frame[headerLength...]))
        }
    }
}
