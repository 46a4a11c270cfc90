import Testing
@testable import WebSocketCore

@Suite struct TextMessageTests {
    @Test(arguments: ["é", "€", "𝄞", "\u{10FFFF}"])
    func characterSplitAcrossFragmentsAtEveryByte(character: String) {
        let bytes = Array(("<" + character + ">").utf8)
        for split in 1..<bytes.count {
            let input = masked(.text, Array(bytes[..<split]), fin: false) + masked(.continuation, Array(bytes[split...]))
            for chunk in [nil, 1] as [Int?] {
                let result = receive(input, chunkSize: chunk)
                #expect(result.violation == nil)
                #expect(result.events == [.text("<" + character + ">")])
            }
        }
    }

    @Test func characterSplitIntoOneFragmentPerByte() {
        let bytes = Array("𝄞".utf8)
        let input = masked(.text, [bytes[0]], fin: false) + masked(.continuation, [bytes[1]], fin: false)
            + masked(.ping, []) + masked(.continuation, [bytes[2]], fin: false) + masked(.continuation, [bytes[3]])
        #expect(receive(input, chunkSize: 1).events == [.ping([]), .text("𝄞")])
    }

    @Test(arguments: [
        [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
        [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64],
        [0xFF],
    ])
    func invalidUTF8InATextMessageIs1007(bytes: [UInt8]) {
        #expect(violationCode(masked(.text, bytes)) == 1007)
    }

    @Test func invalidUTF8InBinaryIsFine() {
        #expect(receive(masked(.binary, [0xFF, 0xC0])).events == [.binary([0xFF, 0xC0])])
    }

    @Test func invalidUTF8InTheFirstFragmentFailsBeforeTheMessageCompletes() {
        // Only the first fragment arrives; it is already impossible (F4 90 is above U+10FFFF).
        let result = receive(masked(.text, [0x41, 0xF4, 0x90], fin: false))
        #expect(result.violation?.closeCode == .invalidPayload)
    }

    @Test func invalidUTF8FailsBeforeTheFramePayloadCompletes() {
        // A 100-byte frame whose third byte is already invalid: fail with only 3 payload bytes in.
        var payload = [UInt8](repeating: 0x41, count: 100)
        payload[2] = 0xFF
        let frame = masked(.text, payload)
        let headerLength = 6
        var connection = WebSocketConnection()
        connection.receive(frame.prefix(headerLength + 3))
        #expect(throws: ProtocolViolation(closeCode: .invalidPayload, reason: "text message is not valid UTF-8")) {
            try connection.nextEvent()
        }
    }

    @Test func messageEndingInsideACharacterIs1007() {
        #expect(violationCode(masked(.text, [0x41, 0xE2, 0x82])) == 1007)
        #expect(violationCode(masked(.text, [0xE2], fin: false) + masked(.continuation, [0x82])) == 1007)
    }

    @Test func validatorRestartsForEachMessage() {
        // A message that ends cleanly must not leave state for the next one.
        let input = masked(.text, "é") + masked(.text, "€")
        #expect(receive(input).events == [.text("é"), .text("€")])
    }

    @Test func incompleteCharacterInOneMessageDoesNotLeakIntoBinary() {
        let input = masked(.binary, [0xE2]) + masked(.text, "ok")
        #expect(receive(input).events == [.binary([0xE2]), .text("ok")])
    }
}
