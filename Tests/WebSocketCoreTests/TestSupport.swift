import TestSupport
@testable import WebSocketCore

let testKey: (UInt8, UInt8, UInt8, UInt8) = (0x37, 0xFA, 0x21, 0x3D)

/// A client frame, masked with the RFC 6455 §5.7 example key.
func masked(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    FrameEncoder.maskedFrame(opcode, payload: payload, fin: fin, maskKey: testKey)
}

func masked(_ opcode: Opcode, _ text: String, fin: Bool = true) -> [UInt8] {
    masked(opcode, Array(text.utf8), fin: fin)
}

/// A masked frame with raw first byte and payload, for headers the encoder will not produce.
func rawMaskedFrame(firstByte: UInt8, payload: [UInt8]) -> [UInt8] {
    var frame = masked(.binary, payload)
    frame[0] = firstByte
    return frame
}

struct Received {
    var events: [WebSocketEvent] = []
    var violation: ProtocolViolation?
}

/// Feeds `input` in chunks of `chunkSize` (all at once when nil), draining events after each.
func receive(_ input: [UInt8], limits: WebSocketLimits = WebSocketLimits(), chunkSize: Int? = nil) -> Received {
    var connection = WebSocketConnection(limits: limits)
    return receive(input, on: &connection, chunkSize: chunkSize)
}

func receive(_ input: [UInt8], on connection: inout WebSocketConnection, chunkSize: Int? = nil) -> Received {
    var received = Received()
    feedInChunks(input, size: chunkSize) { chunk in
        connection.receive(chunk)
        do throws(ProtocolViolation) {
            while let event = try connection.nextEvent() { received.events.append(event) }
            return true
        } catch {
            received.violation = error
            return false
        }
    }
    return received
}

/// The close code a stream is refused with, or nil.
func violationCode(_ input: [UInt8], limits: WebSocketLimits = WebSocketLimits()) -> UInt16? {
    receive(input, limits: limits).violation?.closeCode.rawValue
}
