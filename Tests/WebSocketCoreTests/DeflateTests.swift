import HTTPCore
import Testing
@testable import WebSocketCore

/// RFC 7692 permessage-deflate: framing with byte vectors (the RFC's own examples), negotiation,
/// limits on inflated size, and the deflater's output read back by the inflater.
@Suite struct DeflateFramingTests {
    let deflate = DeflateParameters()

    func receiveCompressed(_ input: [UInt8], parameters: DeflateParameters = DeflateParameters(),
                           limits: WebSocketLimits = WebSocketLimits(), chunkSize: Int? = nil) -> Received {
        var connection = WebSocketConnection(limits: limits, deflate: parameters)
        return receive(input, on: &connection, chunkSize: chunkSize)
    }

    /// A client frame with RSV1 set and the §5.7 mask.
    func compressedFrame(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        FrameEncoder.maskedFrame(opcode, payload: payload, fin: fin, maskKey: testKey, compressed: true)
    }

    // RFC 7692 §7.2.3.1: "Hello" compressed in one frame.
    let helloDeflated: [UInt8] = [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]

    @Test func theRFCsCompressedHello() {
        let frame = compressedFrame(.text, helloDeflated)
        #expect(frame[0] == 0xC1)
        #expect(receiveCompressed(frame).events == [.text("Hello")])
    }

    @Test func rsv1WithoutTheExtensionIsAProtocolError() {
        #expect(receive(compressedFrame(.text, helloDeflated)).violation?.closeCode == .protocolError)
    }

    @Test func theRFCsFragmentedCompressedHello() {
        // §7.2.3.1: 0x41 0x03 f2 48 cd / 0x80 0x04 c9 c9 07 00 — RSV1 on the first frame only.
        let input = compressedFrame(.text, [0xF2, 0x48, 0xCD], fin: false) + masked(.continuation, [0xC9, 0xC9, 0x07, 0x00])
        #expect(receiveCompressed(input).events == [.text("Hello")])
        #expect(receiveCompressed(input, chunkSize: 1).events == [.text("Hello")])
    }

    @Test func contextTakeoverCarriesTheWindowToTheNextMessage() {
        // §7.2.3.2: the second "Hello" is a back-reference into the first.
        let input = compressedFrame(.text, helloDeflated) + compressedFrame(.text, [0xF2, 0x00, 0x11, 0x00, 0x00])
        #expect(receiveCompressed(input).events == [.text("Hello"), .text("Hello")])
    }

    @Test func theRFCsStoredBlockAndBFinalExamples() {
        // §7.2.3.3 (no compression, a stored block) and §7.2.3.4 (BFINAL set).
        let stored: [UInt8] = [0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00]
        #expect(receiveCompressed(compressedFrame(.text, stored)).events == [.text("Hello")])
        let final: [UInt8] = [0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00]
        let twice = compressedFrame(.text, final) + compressedFrame(.text, final)
        let result = receiveCompressed(twice)
        #expect(result.violation == nil)
        #expect(result.events == [.text("Hello"), .text("Hello")])
    }

    @Test func anUncompressedMessageStillPassesOnADeflateConnection() {
        let input = masked(.text, "plain") + compressedFrame(.binary, helloDeflated)
        #expect(receiveCompressed(input).events == [.text("plain"), .binary(Array("Hello".utf8))])
    }

    @Test func rsv1OnAContinuationOrAControlFrameIsAProtocolError() {
        let onContinuation = masked(.text, [0xF2], fin: false) + compressedFrame(.continuation, [0x48])
        #expect(receiveCompressed(onContinuation).violation?.closeCode == .protocolError)
        #expect(receiveCompressed(compressedFrame(.ping, [])).violation?.closeCode == .protocolError)
        // RSV2 and RSV3 stay reserved with the extension on.
        #expect(receiveCompressed(rawMaskedFrame(firstByte: 0xA1, payload: [])).violation?.closeCode == .protocolError)
        #expect(receiveCompressed(rawMaskedFrame(firstByte: 0x91, payload: [])).violation?.closeCode == .protocolError)
    }

    @Test func corruptDeflateDataIs1007() {
        // Block type 3 is reserved in DEFLATE.
        #expect(receiveCompressed(compressedFrame(.binary, [0xFF, 0xFF, 0xFF])).violation?.closeCode == .invalidPayload)
    }

    @Test func inflatedTextIsCheckedAsUTF8() throws {
        let deflater = try #require(RawDeflater(windowBits: 15))
        let bad = deflater.compressMessage([0x48, 0xC3, 0x28, 0x49])
        #expect(receiveCompressed(compressedFrame(.text, bad)).violation?.closeCode == .invalidPayload)
    }

    @Test func aDecompressionBombIs1009AndIsNotInflatedPastTheLimit() throws {
        let deflater = try #require(RawDeflater(windowBits: 15))
        let bomb = deflater.compressMessage([UInt8](repeating: 0, count: 32 << 20))
        #expect(bomb.count < 64 << 10)
        var limits = WebSocketLimits()
        limits.maxMessageBytes = 1 << 20
        let result = receiveCompressed(compressedFrame(.binary, bomb), limits: limits)
        #expect(result.violation?.closeCode == .messageTooBig)
        // The inflater itself: output stops one byte past the limit.
        let inflater = try #require(RawInflater())
        var output: [UInt8] = []
        #expect(throws: RawInflater.Failure.tooLarge) { try inflater.inflate(bomb[...], into: &output, limit: 1 << 20) }
        #expect(output.count == (1 << 20) + 1)
    }

    @Test func aBombSplitIntoFragmentsIsRefusedToo() throws {
        let deflater = try #require(RawDeflater(windowBits: 15))
        let bomb = deflater.compressMessage([UInt8](repeating: 0x41, count: 4 << 20))
        var limits = WebSocketLimits()
        limits.maxMessageBytes = 64 << 10
        var input = compressedFrame(.text, Array(bomb.prefix(10)), fin: false)
        var rest = bomb.dropFirst(10)
        while !rest.isEmpty {
            let piece = Array(rest.prefix(100)); rest = rest.dropFirst(100)
            input += masked(.continuation, piece, fin: rest.isEmpty)
        }
        #expect(receiveCompressed(input, limits: limits).violation?.closeCode == .messageTooBig)
    }

    /// Found by fuzz-frame: a bomb of invalid UTF-8 was 1009 when read at once and 1007 when
    /// read in small pieces. The text inflated so far is now judged before the size.
    @Test func theVerdictOnAnInvalidTextBombDoesNotDependOnReads() throws {
        let deflater = try #require(RawDeflater(windowBits: 15))
        let bomb = deflater.compressMessage([UInt8](repeating: 0x95, count: 65_536))
        var limits = WebSocketLimits()
        limits.maxMessageBytes = 300
        let input = compressedFrame(.text, bomb, fin: false)
        let whole = receiveCompressed(input, limits: limits)
        #expect(whole.violation?.closeCode == .invalidPayload)
        for size in [1, 3, 7] {
            #expect(receiveCompressed(input, limits: limits, chunkSize: size).violation == whole.violation)
        }
    }

    @Test func aMessageExactlyAtTheLimitPasses() throws {
        let deflater = try #require(RawDeflater(windowBits: 15))
        var limits = WebSocketLimits()
        limits.maxMessageBytes = 100_000
        let payload = [UInt8](repeating: 0x7A, count: 100_000)
        let frame = compressedFrame(.binary, deflater.compressMessage(payload))
        #expect(receiveCompressed(frame, limits: limits).events == [.binary(payload)])
        let over = compressedFrame(.binary, deflater.compressMessage(payload + [1]))
        #expect(receiveCompressed(over, limits: limits).violation?.closeCode == .messageTooBig)
    }

    @Test func inflateStateIsHeldOnlyForPeersThatCompress() {
        var connection = WebSocketConnection(deflate: DeflateParameters())
        _ = receive(masked(.text, "plain"), on: &connection)
        #expect(!connection.holdsInflateState)
        _ = receive(compressedFrame(.text, helloDeflated), on: &connection)
        #expect(connection.holdsInflateState)
        // With client_no_context_takeover nothing is remembered between messages.
        var fresh = WebSocketConnection(deflate: DeflateParameters(clientNoContextTakeover: true))
        let result = receive(compressedFrame(.text, helloDeflated) + compressedFrame(.text, helloDeflated), on: &fresh)
        #expect(result.events == [.text("Hello"), .text("Hello")])
        #expect(!fresh.holdsInflateState)
    }

    @Test(arguments: [8, 9, 12, 15])
    func theDeflatersOutputInflatesWithThePeersWindow(bits: Int) throws {
        let deflater = MessageDeflater()
        var generator = SystemRandomNumberGenerator()
        let words = ["position", "account", "ZNZ6", "110-16.5", "realized", "\"net\":", "{", "}", "\"-203.125\""]
        var text = ""
        for _ in 0..<3000 { text += words[Int(generator.next() % UInt64(words.count))] }
        let payload = Array(text.utf8)
        let compressed = try #require(deflater.compress(payload, windowBits: bits, minimumBytes: 0))
        #expect(compressed.count < payload.count)
        let inflater = try #require(RawInflater(windowBits: bits))
        var output: [UInt8] = []
        try inflater.inflate(compressed[...] + [0, 0, 0xFF, 0xFF], into: &output, limit: 1 << 20)
        #expect(output == payload)
        #expect(deflater.bytesIn == payload.count && deflater.bytesOut == compressed.count)
    }

    @Test func autoSkipsSmallAndIncompressibleMessages() {
        let deflater = MessageDeflater()
        #expect(deflater.compress(Array(repeating: 0x41, count: 100), windowBits: 15, minimumBytes: 128) == nil)
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(deflater.compress(noise, windowBits: 15, minimumBytes: 128) == nil)
        #expect(deflater.compress(noise, windowBits: 15, minimumBytes: 0) != nil)   // on: always
        #expect(deflater.compress(Array(repeating: 0x41, count: 4096), windowBits: 15, minimumBytes: 128) != nil)
    }

    @Test func serverFramesAreReframedWithTheirPayloadsCompressed() throws {
        let deflater = MessageDeflater()
        let big = String(repeating: "{\"type\":\"position\"}", count: 20)
        let frames = FrameEncoder.frame(.text, payload: Array(big.utf8)) + FrameEncoder.frame(.ping, payload: [1])
            + FrameEncoder.frame(.binary, payload: [UInt8](repeating: 7, count: 70_000)) + FrameEncoder.frame(.text, payload: Array("hi".utf8))
        let out = deflater.deflateFrames(frames, windowBits: 15, minimumBytes: 128)
        // Read them back as a client would (unmasked server frames): inflate RSV1 payloads.
        var index = 0
        var messages: [(UInt8, [UInt8])] = []
        while index < out.count {
            let (header, length) = try #require(MessageDeflater.serverFrameLength(out, at: index))
            var payload = Array(out[(index + header)..<(index + header + length)])
            if out[index] & 0x40 != 0 {
                let inflater = try #require(RawInflater())
                var plain: [UInt8] = []
                try inflater.inflate((payload + [0, 0, 0xFF, 0xFF])[...], into: &plain, limit: 1 << 20)
                payload = plain
            }
            messages.append((out[index] & 0x4F, payload))
            index += header + length
        }
        #expect(messages.map(\.0) == [0x41, 0x09, 0x42, 0x01])   // RSV1 on the two large ones only
        #expect(messages.map(\.1) == [Array(big.utf8), [1], [UInt8](repeating: 7, count: 70_000), Array("hi".utf8)])
        #expect(out.count < frames.count / 10)
    }

    @Test func anEmptyMessageRoundTrips() throws {
        let deflater = try #require(RawDeflater(windowBits: 15))
        let frame = compressedFrame(.text, deflater.compressMessage([]))
        #expect(receiveCompressed(frame).events == [.text("")])
    }
}

@Suite struct DeflateNegotiationTests {
    @Test func aPlainOfferIsAcceptedWithServerNoContextTakeover() throws {
        let agreed = try #require(PerMessageDeflate.negotiate(["permessage-deflate"]))
        #expect(agreed == DeflateParameters())
        #expect(agreed.responseHeaderValue == "permessage-deflate; server_no_context_takeover")
    }

    @Test func browsersOfferClientMaxWindowBitsWithoutAValue() throws {
        let agreed = try #require(PerMessageDeflate.negotiate(["permessage-deflate; client_max_window_bits"]))
        #expect(agreed.clientMaxWindowBits == 15)
        #expect(agreed.responseHeaderValue == "permessage-deflate; server_no_context_takeover")
    }

    @Test func everyParameterIsHonoured() throws {
        let agreed = try #require(PerMessageDeflate.negotiate([
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
        ]))
        #expect(agreed.clientNoContextTakeover)
        #expect(agreed.serverMaxWindowBits == 10)
        #expect(agreed.clientMaxWindowBits == 12)
        #expect(agreed.responseHeaderValue
                == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10")
    }

    @Test func theFirstAcceptableOfSeveralOffersWins() throws {
        // The first offer has an unknown parameter, the second a bad window: the third is taken.
        let header = "permessage-deflate; foo=1, permessage-deflate; server_max_window_bits=16, permessage-deflate; server_max_window_bits=9, permessage-deflate"
        let agreed = try #require(PerMessageDeflate.negotiate([header]))
        #expect(agreed.serverMaxWindowBits == 9)
        // Offers across several header lines, other extensions skipped.
        let split = try #require(PerMessageDeflate.negotiate(["x-webkit-deflate-frame", "permessage-deflate; client_no_context_takeover"]))
        #expect(split.clientNoContextTakeover)
    }

    @Test(arguments: [
        "permessage-deflate; server_max_window_bits",        // value required
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",     // leading zero
        "permessage-deflate; client_max_window_bits=8a",
        "permessage-deflate; server_no_context_takeover=1",   // no value allowed
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; mystery",
        "permessage-deflate; server_max_window_bits=\"1",     // unterminated quote
        "x-webkit-deflate-frame",
    ])
    func unacceptableOffersAreDeclined(header: String) {
        #expect(PerMessageDeflate.negotiate([header]) == nil)
    }

    @Test func quotedValuesAndOddSpacingAreUnderstood() throws {
        let agreed = try #require(PerMessageDeflate.negotiate(["  Permessage-Deflate ;server_max_window_bits=\"11\" ;\tclient_max_window_bits = 9 "]))
        #expect(agreed.serverMaxWindowBits == 11)
        #expect(agreed.clientMaxWindowBits == 9)
    }

    func request(extensions: [String]) throws -> HTTPRequest {
        var text = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for value in extensions { text += "Sec-WebSocket-Extensions: \(value)\r\n" }
        text += "\r\n"
        var parser = HTTPRequestParser()
        parser.feed(Array(text.utf8))
        return try #require(try parser.nextRequest())
    }

    @Test func theHandshakeAnswersTheAgreedExtensionOnlyWhenTheEndpointOffersIt() throws {
        let offer = try request(extensions: ["permessage-deflate; client_max_window_bits"])
        guard case .success(let on) = Handshake.accept(offer, offerDeflate: true) else { Issue.record("refused"); return }
        #expect(on.deflate == DeflateParameters())
        #expect(on.response.headers["sec-websocket-extensions"] == "permessage-deflate; server_no_context_takeover")
        guard case .success(let off) = Handshake.accept(offer, offerDeflate: false) else { Issue.record("refused"); return }
        #expect(off.deflate == nil)
        #expect(off.response.headers["sec-websocket-extensions"] == nil)
    }
}
