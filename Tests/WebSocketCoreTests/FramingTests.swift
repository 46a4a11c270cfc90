import Testing
@testable import WebSocketCore

@Suite struct FramingTests {
    @Test func maskedHelloFromTheRFC() {
        let result = receive([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        #expect(result.events == [.text("Hello")])
        #expect(result.violation == nil)
    }

    @Test func fragmentedHelloIsOneMessage() {
        let result = receive(masked(.text, "Hel", fin: false) + masked(.continuation, "lo"))
        #expect(result.events == [.text("Hello")])
    }

    @Test func pingAndPongAreEvents() {
        let result = receive(masked(.ping, "Hello") + masked(.pong, "Hello") + masked(.pong, []))
        #expect(result.events == [.ping(Array("Hello".utf8)), .pong(Array("Hello".utf8)), .pong([])])
    }

    @Test(arguments: [0, 1, 125, 126, 256, 65535, 65536, 70_000])
    func everyLengthEncodingRoundTrips(length: Int) {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(receive(masked(.binary, payload)).events == [.binary(payload)])
    }

    @Test func headersOf256And64KiBFramesFromTheRFC() {
        let payload256 = [UInt8](repeating: 0xAB, count: 256)
        #expect(Array(masked(.binary, payload256).prefix(4)) == [0x82, 0xFE, 0x01, 0x00])
        let payload64K = [UInt8](repeating: 0xCD, count: 65536)
        #expect(Array(masked(.binary, payload64K).prefix(10)) == [0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00])
        #expect(receive(masked(.binary, payload64K), chunkSize: 1000).events == [.binary(payload64K)])
    }

    @Test func nonMinimalLengthsAreAccepted() {
        // "Hi" with a 16-bit and a 64-bit length field.
        let key: [UInt8] = [1, 2, 3, 4]
        let payload: [UInt8] = [UInt8(ascii: "H") ^ 1, UInt8(ascii: "i") ^ 2]
        let sixteen: [UInt8] = [0x81, 0xFE, 0x00, 0x02] + key + payload
        let sixtyFour: [UInt8] = [0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x02] + key + payload
        #expect(receive(sixteen + sixtyFour).events == [.text("Hi"), .text("Hi")])
    }

    @Test func sixtyFourBitLengthWithTheTopBitSetIs1002() {
        let frame: [UInt8] = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 1, 2, 3, 4]
        #expect(violationCode(frame) == 1002)
    }

    @Test func unmaskedClientFrameIs1002() {
        #expect(violationCode([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]) == 1002)
    }

    @Test(arguments: [UInt8(0x40), 0x20, 0x10, 0x70])
    func reservedBitsAre1002(bit: UInt8) {
        #expect(violationCode(rawMaskedFrame(firstByte: 0x81 | bit, payload: [0x41])) == 1002)
    }

    @Test(arguments: [UInt8(3), 4, 5, 6, 7, 11, 12, 13, 14, 15])
    func reservedOpcodesAre1002(opcode: UInt8) {
        #expect(violationCode(rawMaskedFrame(firstByte: 0x80 | opcode, payload: [])) == 1002)
    }

    @Test(arguments: [Opcode.ping, .pong, .close])
    func controlFrameOver125BytesIs1002(opcode: Opcode) {
        #expect(violationCode(masked(opcode, [UInt8](repeating: 0x41, count: 126))) == 1002)
    }

    @Test func controlFrameOfExactly125BytesIsAccepted() {
        let payload = [UInt8](repeating: 0x41, count: 125)
        #expect(receive(masked(.ping, payload)).events == [.ping(payload)])
    }

    @Test(arguments: [Opcode.ping, .pong, .close])
    func fragmentedControlFrameIs1002(opcode: Opcode) {
        #expect(violationCode(masked(opcode, "x", fin: false)) == 1002)
    }

    @Test func continuationWithoutAMessageIs1002() {
        #expect(violationCode(masked(.continuation, "x")) == 1002)
        // Also right after a complete message.
        #expect(violationCode(masked(.text, "a") + masked(.continuation, "x")) == 1002)
    }

    @Test(arguments: [Opcode.text, .binary])
    func newDataFrameInsideAFragmentedMessageIs1002(opcode: Opcode) {
        #expect(violationCode(masked(.text, "a", fin: false) + masked(opcode, "b")) == 1002)
    }

    @Test func controlFramesMayInterleaveFragments() {
        let input = masked(.text, "Hel", fin: false) + masked(.ping, "p") + masked(.continuation, "l", fin: false)
            + masked(.pong, "q") + masked(.continuation, "o")
        #expect(receive(input).events == [.ping([0x70]), .pong([0x71]), .text("Hello")])
    }

    @Test func closeBetweenFragmentsEndsTheConnection() {
        let input = masked(.binary, [1], fin: false) + masked(.close, [0x03, 0xE8]) + masked(.continuation, [2])
        #expect(receive(input).events == [.close(code: .normal, reason: "")])
    }

    @Test func emptyFragmentsAndEmptyMessages() {
        let input = masked(.text, "", fin: false) + masked(.continuation, "", fin: false) + masked(.continuation, "") + masked(.binary, [])
        #expect(receive(input).events == [.text(""), .binary([])])
    }

    // MARK: limits

    private var smallLimits: WebSocketLimits {
        var limits = WebSocketLimits()
        limits.maxMessageBytes = 10
        limits.maxFramesPerMessage = 3
        return limits
    }

    @Test func messageAtTheSizeLimitIsAccepted() {
        #expect(receive(masked(.binary, [UInt8](repeating: 1, count: 10)), limits: smallLimits).events.count == 1)
    }

    @Test func oversizeFrameIs1009FromTheHeaderAlone() {
        let header = Array(masked(.binary, [UInt8](repeating: 1, count: 11)).prefix(2))   // no mask key, no payload
        var connection = WebSocketConnection(limits: smallLimits)
        connection.receive(header)
        #expect(throws: ProtocolViolation.self) { try connection.nextEvent() }
        #expect(receive(header, limits: smallLimits).violation?.closeCode == .messageTooBig)
    }

    @Test func huge64BitLengthIs1009WithoutBuffering() {
        let header: [UInt8] = [0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(violationCode(header) == 1009)
    }

    @Test func cumulativeSizeAcrossFragmentsIs1009AtTheFrameThatPassesIt() {
        let first = masked(.binary, [UInt8](repeating: 1, count: 6), fin: false)
        let secondHeader = Array(masked(.continuation, [UInt8](repeating: 1, count: 5)).prefix(2))
        let result = receive(first + secondHeader, limits: smallLimits)
        #expect(result.violation?.closeCode == .messageTooBig)
        let fits = masked(.continuation, [UInt8](repeating: 1, count: 4))
        #expect(receive(first + fits, limits: smallLimits).events == [.binary([UInt8](repeating: 1, count: 10))])
    }

    @Test func tooManyFragmentsIs1009() {
        let three = masked(.text, "a", fin: false) + masked(.continuation, "b", fin: false) + masked(.continuation, "c")
        #expect(receive(three, limits: smallLimits).events == [.text("abc")])
        let four = masked(.text, "a", fin: false) + masked(.continuation, "b", fin: false)
            + masked(.continuation, "c", fin: false) + masked(.continuation, "d")
        #expect(violationCode(four, limits: smallLimits) == 1009)
    }

    @Test func fragmentCountResetsPerMessage() {
        let message = masked(.text, "a", fin: false) + masked(.continuation, "b", fin: false) + masked(.continuation, "c")
        #expect(receive(message + message, limits: smallLimits).events == [.text("abc"), .text("abc")])
    }

    // MARK: streams

    @Test func byteAtATimeGivesTheSameEvents() {
        let input = masked(.text, "héllo wörld €𝄞", fin: false) + masked(.ping, "p") + masked(.continuation, "!")
            + masked(.binary, [UInt8](repeating: 9, count: 300)) + masked(.close, [0x03, 0xE9] + Array("bye".utf8))
        let whole = receive(input)
        #expect(whole.events.count == 4)
        for chunk in [1, 2, 3, 5, 7, 64] {
            #expect(receive(input, chunkSize: chunk).events == whole.events)
        }
    }

    @Test func manyMessagesCompactTheBufferWithoutLosingBytes() {
        var connection = WebSocketConnection()
        let message = masked(.binary, [UInt8](repeating: 5, count: 1000))
        var count = 0
        for round in 0..<200 {
            let input = message + message + Array(message.prefix(round % 50 + 1))
            let result = receive(input, on: &connection)
            count += result.events.count
            connection.receive(message.dropFirst(round % 50 + 1))
            while (try? connection.nextEvent()) ?? nil != nil { count += 1 }
        }
        #expect(count == 600)
        #expect(connection.bufferedByteCount == 0)
    }

    @Test func nonContiguousInputIsReceivedToo() throws {
        var connection = WebSocketConnection()
        connection.receive(masked(.text, "lazy").lazy.map { $0 })
        #expect(try connection.nextEvent() == .text("lazy"))
    }

    @Test func violationIsSticky() {
        var connection = WebSocketConnection()
        connection.receive([0x81, 0x05])   // unmasked
        #expect(throws: ProtocolViolation.self) { try connection.nextEvent() }
        connection.receive(masked(.text, "fine"))
        #expect(throws: ProtocolViolation(closeCode: .protocolError, reason: "client frame not masked")) { try connection.nextEvent() }
    }

    @Test func unmaskingHandlesEveryPhaseAndLength() {
        for length in 0..<40 {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 31 + 3) }
            for chunk in 1...9 {
                #expect(receive(masked(.binary, payload), chunkSize: chunk).events == [.binary(payload)])
            }
        }
    }
}
