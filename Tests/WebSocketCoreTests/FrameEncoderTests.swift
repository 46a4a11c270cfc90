import Testing
@testable import WebSocketCore

@Suite struct FrameEncoderTests {
    // RFC 6455 §5.7 examples.
    @Test func unmaskedHello() {
        #expect(FrameEncoder.frame(.text, payload: Array("Hello".utf8)) == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    @Test func maskedHello() {
        #expect(masked(.text, "Hello") == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func fragmentedUnmaskedHello() {
        #expect(FrameEncoder.frame(.text, payload: Array("Hel".utf8), fin: false) == [0x01, 0x03, 0x48, 0x65, 0x6C])
        #expect(FrameEncoder.frame(.continuation, payload: Array("lo".utf8)) == [0x80, 0x02, 0x6C, 0x6F])
    }

    @Test func unmaskedPingAndMaskedPong() {
        #expect(FrameEncoder.frame(.ping, payload: Array("Hello".utf8)) == [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(masked(.pong, "Hello") == [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func lengthEncodings() {
        #expect(FrameEncoder.header(.binary, payloadLength: 125) == [0x82, 125])
        #expect(FrameEncoder.header(.binary, payloadLength: 126) == [0x82, 0x7E, 0x00, 0x7E])
        #expect(FrameEncoder.header(.binary, payloadLength: 256) == [0x82, 0x7E, 0x01, 0x00])
        #expect(FrameEncoder.header(.binary, payloadLength: 65535) == [0x82, 0x7E, 0xFF, 0xFF])
        #expect(FrameEncoder.header(.binary, payloadLength: 65536) == [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00])
        #expect(FrameEncoder.header(.text, payloadLength: 0, fin: false) == [0x01, 0x00])
    }

    @Test func frameIsHeaderPlusPayload() {
        let payload = [UInt8](repeating: 7, count: 300)
        #expect(FrameEncoder.frame(.binary, payload: payload) == FrameEncoder.header(.binary, payloadLength: 300) + payload)
    }

    @Test func closeFrameCarriesCodeAndReason() {
        #expect(FrameEncoder.close(.normal) == [0x88, 0x02, 0x03, 0xE8])
        #expect(FrameEncoder.close(.slowConsumer, reason: "slow") == [0x88, 0x06, 0x0F, 0xA8] + Array("slow".utf8))
    }

    @Test func longCloseReasonIsCutOnACharacterBoundary() {
        let reason = String(repeating: "a", count: 122) + "€€"   // 122 + 6 bytes: only 123 fit
        let frame = FrameEncoder.close(.goingAway, reason: reason)
        #expect(frame[1] == 2 + 122)
        #expect(frame.count == 2 + 2 + 122)
        let exact = FrameEncoder.close(.goingAway, reason: String(repeating: "b", count: 120) + "€")  // 123 bytes
        #expect(exact[1] == 125)
        #expect(String(validating: exact[4...], as: UTF8.self) != nil)
    }
}
