import Reactor
import WebSocketCore

extension Frames {
    /// A complete unmasked text frame from payload bytes already encoded (`JSONBytes`), without
    /// the round trip through `String`.
    public static func text(bytes payload: [UInt8]) -> SharedBuffer {
        SharedBuffer(concatenating: [FrameEncoder.header(.text, payloadLength: payload.count), payload])
    }
}
