import Testing
@testable import WebSocketCore

@Suite struct CloseTests {
    private func closeFrame(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        masked(.close, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
    }

    @Test(arguments: [
        (UInt16(0), false), (999, false), (1000, true), (1001, true), (1002, true), (1003, true), (1004, false),
        (1005, false), (1006, false), (1007, true), (1008, true), (1009, true), (1010, true), (1011, true),
        (1012, false), (1013, false), (1014, false), (1015, false), (1016, false), (2000, false), (2999, false),
        (3000, true), (3999, true), (4000, true), (4001, true), (4008, true), (4999, true), (5000, false), (65535, false),
    ])
    func closeCodeValidityOnTheWire(code: UInt16, valid: Bool) {
        #expect(CloseCode.isValidOnWire(code) == valid)
        let result = receive(closeFrame(code))
        if valid {
            #expect(result.events == [.close(code: CloseCode(code), reason: "")])
        } else {
            #expect(result.violation?.closeCode == .protocolError)
        }
    }

    @Test func namedCodes() {
        #expect(CloseCode.normal.rawValue == 1000)
        #expect(CloseCode.goingAway.rawValue == 1001)
        #expect(CloseCode.protocolError.rawValue == 1002)
        #expect(CloseCode.unsupportedData.rawValue == 1003)
        #expect(CloseCode.noStatus.rawValue == 1005)
        #expect(CloseCode.abnormal.rawValue == 1006)
        #expect(CloseCode.invalidPayload.rawValue == 1007)
        #expect(CloseCode.policyViolation.rawValue == 1008)
        #expect(CloseCode.messageTooBig.rawValue == 1009)
        #expect(CloseCode.mandatoryExtension.rawValue == 1010)
        #expect(CloseCode.internalError.rawValue == 1011)
        #expect(CloseCode.tokenExpired.rawValue == 4001)
        #expect(CloseCode.slowConsumer.rawValue == 4008)
        #expect(!CloseCode.isValidOnWire(CloseCode.noStatus.rawValue))
        #expect(!CloseCode.isValidOnWire(CloseCode.abnormal.rawValue))
    }

    @Test func closeWithReason() {
        #expect(receive(closeFrame(1001, Array("going away €".utf8))).events == [.close(code: .goingAway, reason: "going away €")])
    }

    @Test func emptyCloseHasNoCodeAndIsEchoedWith1000() {
        var connection = WebSocketConnection()
        let result = receive(masked(.close, []), on: &connection)
        #expect(result.events == [.close(code: nil, reason: "")])
        #expect(connection.state == .closeReceived)
        do { let answer = connection.reply(to: result.events[0]); #expect(answer == FrameEncoder.close(.normal)) }
        #expect(connection.state == .closed)
    }

    @Test func oneByteClosePayloadIs1002() {
        #expect(violationCode(masked(.close, [0x03])) == 1002)
    }

    @Test func nonUTF8CloseReasonIs1007() {
        #expect(violationCode(closeFrame(1000, [0xFF])) == 1007)
        #expect(violationCode(closeFrame(1000, [0xE2, 0x82])) == 1007)
    }

    @Test func receivedCloseIsEchoedWithThePeersCode() {
        var connection = WebSocketConnection()
        let result = receive(closeFrame(4000, Array("bye".utf8)), on: &connection)
        do { let answer = connection.reply(to: result.events[0]); #expect(answer == FrameEncoder.close(CloseCode(4000))) }
        // Only one echo.
        do { let answer = connection.reply(to: result.events[0]); #expect(answer == nil) }
    }

    @Test func everythingAfterAReceivedCloseIsIgnored() {
        var connection = WebSocketConnection()
        let input = closeFrame(1000) + masked(.text, "late") + [0x81, 0x05] + masked(.ping, "p")
        let result = receive(input, on: &connection)
        #expect(result.events == [.close(code: .normal, reason: "")])
        #expect(result.violation == nil)
        connection.receive(masked(.text, "later"))
        #expect(throws: Never.self) {
            let event = try connection.nextEvent()
            #expect(event == nil)
        }
        #expect(connection.bufferedByteCount == 0)
    }

    @Test func serverInitiatedCloseWaitsForThePeersClose() throws {
        var connection = WebSocketConnection()
        do { let answer = connection.close(.goingAway, reason: "restart"); #expect(answer == FrameEncoder.close(.goingAway, reason: "restart")) }
        #expect(connection.state == .closeSent)
        // Data still in flight from the peer is delivered, but a ping is not answered any more.
        let result = receive(masked(.text, "in flight") + masked(.ping, "p"), on: &connection)
        #expect(result.events == [.text("in flight"), .ping([0x70])])
        do { let answer = connection.reply(to: .ping([0x70])); #expect(answer == nil) }
        // The peer's close completes the handshake; no echo since ours went first.
        let close = receive(closeFrame(1001), on: &connection)
        #expect(close.events == [.close(code: .goingAway, reason: "")])
        #expect(connection.state == .closed)
        do { let answer = connection.reply(to: close.events[0]); #expect(answer == nil) }
    }

    @Test func secondServerCloseSendsNothing() {
        var connection = WebSocketConnection()
        _ = connection.close(.normal)
        do { let answer = connection.close(.internalError); #expect(answer == []) }
        #expect(connection.state == .closeSent)
    }

    @Test func closingAfterReceivingACloseAnswersIt() {
        var connection = WebSocketConnection()
        _ = receive(closeFrame(1000), on: &connection)
        do { let answer = connection.close(.normal); #expect(answer == FrameEncoder.close(.normal)) }
        #expect(connection.state == .closed)
        do { let answer = connection.reply(to: .close(code: .normal, reason: "")); #expect(answer == nil) }
    }

    @Test func pingIsAnsweredWithAPongOfTheSamePayload() {
        var connection = WebSocketConnection()
        let result = receive(masked(.ping, "Hello"), on: &connection)
        do { let answer = connection.reply(to: result.events[0]); #expect(answer == [0x8A, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]) }
    }

    @Test func dataAndPongEventsNeedNoReply() {
        var connection = WebSocketConnection()
        do { let answer = connection.reply(to: .text("x")); #expect(answer == nil) }
        do { let answer = connection.reply(to: .binary([1])); #expect(answer == nil) }
        do { let answer = connection.reply(to: .pong([1])); #expect(answer == nil) }
        #expect(connection.state == .open)
    }

    @Test func violationIsAnsweredWithItsCloseCode() {
        var connection = WebSocketConnection()
        let result = receive(masked(.text, [0xFF]), on: &connection)
        let violation = try! #require(result.violation)
        do { let answer = connection.close(violation.closeCode); #expect(answer == FrameEncoder.close(.invalidPayload)) }
        #expect(connection.state == .closeSent)
    }
}
