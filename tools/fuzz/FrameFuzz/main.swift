// libFuzzer harness for WebSocketConnection (compiled together with Sources/WebSocketCore by
// tools/fuzz/build.sh). The first input byte picks a mode:
// - raw (even): the rest is fed as client bytes, as is;
// - structured (odd): the rest is read as frame specs `[flags, length, payload…]` turned into
//   correctly masked frames, so the fuzzer reaches fragmentation, UTF-8 and close handling
//   without having to discover masking first;
// - handshake (low bits 11): the rest is parsed as HTTP and every request goes through
//   `Handshake.accept`, which must answer 101, 400, 403 or 426; with permessage-deflate offered,
//   an agreed extension's response header must negotiate back to the same parameters.
// Bit 2 of the first byte negotiates permessage-deflate (bit 3: client_no_context_takeover),
// which opens the inflate path: in structured mode a spec's flags may set RSV1 (0x40) on the
// frame, deflate its payload first (0x20, so valid streams are reached, fragmented by the fin
// bit), and blow the payload up to 64 KiB before deflating (0x10: a bomb past the 300-byte
// limit). Raw mode reaches corrupt streams, bad distances (windows) and RSV1 anywhere.
// Invariants: no crash; a violation carries 1002, 1007 or 1009 (a bomb is 1009, never inflated
// past the limit: every event stays within it); events and the violation do not
// depend on how the bytes are split; text events round-trip as UTF-8; nothing follows a close;
// a failed connection keeps failing; replies are well-formed server frames.

import HTTPCore

struct Outcome: Equatable {
    var events: [WebSocketEvent] = []
    var violation: ProtocolViolation?
}

func fuzzLimits() -> WebSocketLimits {
    var limits = WebSocketLimits()
    limits.maxMessageBytes = 300
    limits.maxFramesPerMessage = 6
    return limits
}

func drain(_ connection: inout WebSocketConnection, into outcome: inout Outcome) {
    while outcome.violation == nil {
        do {
            guard let event = try connection.nextEvent() else { return }
            if case .close = outcome.events.last { preconditionFailure("event after close") }
            switch event {
            case .text(let text): precondition(Array(text.utf8).count <= 300)
            case .binary(let bytes): precondition(bytes.count <= 300)
            case .ping(let bytes), .pong(let bytes): precondition(bytes.count <= 125)
            case .close(let code, let reason):
                precondition(code.map { CloseCode.isValidOnWire($0.rawValue) } ?? reason.isEmpty)
            }
            if let reply = connection.reply(to: event) {
                precondition(reply.count >= 2 && reply[1] & 0x80 == 0, "masked or short server frame")
                precondition(reply[0] == 0x8A || reply[0] == 0x88, "reply is not a pong or close")
            }
            outcome.events.append(event)
        } catch {
            let allowed: Set<CloseCode> = [.protocolError, .invalidPayload, .messageTooBig]
            precondition(allowed.contains(error.closeCode), "unexpected close code \(error.closeCode)")
            do { _ = try connection.nextEvent(); preconditionFailure("connection recovered after a violation") }
            catch let again { precondition(again == error, "different violation on retry") }
            let close = connection.close(error.closeCode)
            precondition(close.count >= 4 && close[0] == 0x88)
            outcome.violation = error
        }
    }
}

/// One deflater for the whole run (the harness is single-threaded).
nonisolated(unsafe) let fuzzDeflater = RawDeflater(windowBits: 15)!

func structuredFrames(_ specs: ArraySlice<UInt8>) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = specs.startIndex
    while index + 1 < specs.endIndex {
        let flags = specs[index]
        let length = Int(specs[index + 1])
        index += 2
        var payload = Array(specs[index..<min(index + length, specs.endIndex)])
        index = min(index + length, specs.endIndex)
        if flags & 0x20 != 0 {
            if flags & 0x10 != 0 && !payload.isEmpty {
                var big: [UInt8] = []
                while big.count < 65_536 { big += payload }
                payload = big
            }
            payload = fuzzDeflater.compressMessage(payload)
        }
        let opcodes: [Opcode] = [.continuation, .text, .binary, .close, .ping, .pong, .text, .continuation]
        let opcode = opcodes[Int(flags & 7)]
        let key: (UInt8, UInt8, UInt8, UInt8) = (flags, flags &* 31, flags &+ 7, 0x5A)
        bytes += FrameEncoder.maskedFrame(opcode, payload: payload, fin: flags & 0x80 == 0, maskKey: key,
                                          compressed: flags & 0x40 != 0)
    }
    return bytes
}

func checkHandshakes(_ input: [UInt8]) {
    var parser = HTTPRequestParser()
    parser.feed(input)
    while let request = try? parser.nextRequest() {
        let key = request.headers["sec-websocket-key"]
        let result = Handshake.accept(request, allowOrigin: { $0 == nil || $0 == "https://desk" },
                                      chooseSubprotocol: { $0.first })
        switch result {
        case .success(let accepted):
            precondition(accepted.response.status == 101 && accepted.key == key)
            precondition(accepted.response.headers["sec-websocket-accept"]?.utf8.count == 28)
        case .failure(let rejection):
            precondition([400, 403, 426].contains(rejection.response.status), "handshake status \(rejection.response.status)")
        }
        // permessage-deflate: what is agreed is what the answer says, read back the same way.
        if case .success(let accepted) = Handshake.accept(request, offerDeflate: true), let agreed = accepted.deflate {
            let answer = accepted.response.headers["sec-websocket-extensions"]
            precondition(answer == agreed.responseHeaderValue)
            let reread = PerMessageDeflate.negotiate([answer ?? ""])
            precondition(reread?.serverMaxWindowBits == agreed.serverMaxWindowBits
                         && reread?.clientNoContextTakeover == agreed.clientNoContextTakeover, "response does not negotiate back")
            precondition((8...15).contains(agreed.serverMaxWindowBits) && (8...15).contains(agreed.clientMaxWindowBits))
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Array(UnsafeBufferPointer(start: start, count: count))
    guard let control = data.first else { return 0 }
    if control & 3 == 3 {
        checkHandshakes(Array(data.dropFirst()))
        return 0
    }
    let input = control & 1 == 0 ? Array(data.dropFirst()) : structuredFrames(data.dropFirst())

    // The validator agrees with the standard library on any byte string.
    var validator = UTF8Validator()
    let valid = validator.feed(data) && validator.isComplete
    precondition(valid == (String(validating: data, as: UTF8.self) != nil), "UTF8Validator disagrees with String")

    let deflate: DeflateParameters? = control & 4 == 0 ? nil : DeflateParameters(clientNoContextTakeover: control & 8 != 0)
    var whole = WebSocketConnection(limits: fuzzLimits(), deflate: deflate)
    var wholeOutcome = Outcome()
    whole.receive(input)
    drain(&whole, into: &wholeOutcome)

    var chunked = WebSocketConnection(limits: fuzzLimits(), deflate: deflate)
    var chunkedOutcome = Outcome()
    var offset = 0
    var step = Int((control >> 1) % 5) + 1
    while offset < input.count && chunkedOutcome.violation == nil {
        let size = min(step, input.count - offset)
        chunked.receive(input[offset..<offset + size])
        offset += size
        drain(&chunked, into: &chunkedOutcome)
        step = step % 11 + Int(input[offset - 1] % 4) + 1
    }
    precondition(wholeOutcome == chunkedOutcome, "outcome depends on chunking: \(wholeOutcome) vs \(chunkedOutcome)")
    return 0
}
