/// The server side of one WebSocket connection after the handshake (sans-I/O, like wsproto's
/// `Connection`): `receive` bytes, drain `nextEvent()`, write what `reply(to:)` and `close` return.
///
/// Data frames are consumed as their payload arrives (unmasked straight into the message being
/// assembled), so a text message is UTF-8-checked fragment by fragment and byte by byte, and an
/// oversize message is refused from a frame header before its payload is buffered.
///
/// States: `open` → (close received) `closeReceived` → (our echo sent) `closed`;
/// `open` → (`close(_:)`) `closeSent` → (peer's close received) `closed`. Once a close has been
/// received, every later byte is ignored (§5.5.1). After a thrown violation the connection stays
/// failed and rethrows it: send `close(violation.closeCode)` and drop the connection.
///
/// With permessage-deflate (`deflate`), a message whose first frame has RSV1 is inflated as its
/// frames arrive, into the same message buffer, never past `limits.maxMessageBytes`: a
/// decompression bomb is refused with 1009 after at most the limit (plus one byte) was
/// inflated. The inflate state exists only once the peer sends a compressed message, and is
/// freed after each message under `client_no_context_takeover`.
public struct WebSocketConnection {
    public enum State: Sendable, Equatable { case open, closeReceived, closeSent, closed }

    /// May be changed between events, e.g. to give one endpoint a larger message limit.
    public var limits: WebSocketLimits
    public private(set) var state: State = .open

    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failure: ProtocolViolation?

    /// The data frame whose payload is still arriving, and how far into it we are.
    private var dataFrame: FrameHeader?
    private var dataFrameConsumed = 0

    /// The message being assembled: its opcode (text or binary) while one is open.
    private var messageOpcode: Opcode?
    private var message: [UInt8] = []
    private var messageFrameCount = 0
    private var utf8 = UTF8Validator()

    /// permessage-deflate as negotiated in the handshake; nil: RSV1 is a protocol error.
    public let deflate: DeflateParameters?
    private var messageCompressed = false
    /// Compressed bytes of the current message (bounded apart from the inflated size).
    private var messageWireBytes = 0
    private var inflater: RawInflater?
    /// The message's DEFLATE stream ended (a block with BFINAL): the rest of it is ignored
    /// (RFC 7692 §7.2.3.4), and the next message starts a fresh stream.
    private var inflateStreamEnded = false

    public init(limits: WebSocketLimits = WebSocketLimits(), deflate: DeflateParameters? = nil) {
        self.limits = limits
        self.deflate = deflate
    }

    /// True while an inflate state is held (memory accounting and tests).
    public var holdsInflateState: Bool { inflater != nil }

    /// Bytes received but not yet turned into events.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func receive(_ bytes: some Collection<UInt8>) {
        // After the peer's close nothing it sends matters; don't let it grow memory either.
        if state == .closeReceived || state == .closed || failure != nil { return }
        // Called generically from other modules: copy contiguous input in one go instead of
        // element by element through the Collection witness.
        if bytes.withContiguousStorageIfAvailable({ buffer.append(contentsOf: $0) }) == nil {
            buffer.append(contentsOf: bytes)
        }
    }

    /// The next complete event, or nil when more bytes are needed. Throws a violation as soon as
    /// the bytes received prove one.
    public mutating func nextEvent() throws(ProtocolViolation) -> WebSocketEvent? {
        if let failure { throw failure }
        do {
            let event = try parseNextEvent()
            compact()
            return event
        } catch {
            failure = error
            buffer = []
            readIndex = 0
            throw error
        }
    }

    private mutating func parseNextEvent() throws(ProtocolViolation) -> WebSocketEvent? {
        while state == .open || state == .closeSent {
            if let frame = dataFrame {
                if let event = try continueDataFrame(frame) { return event }
                if dataFrame != nil { return nil } // payload still arriving
                continue
            }
            guard let header = try FrameHeader.parse(buffer[readIndex...], allowCompressed: deflate != nil) else { return nil }
            if header.opcode.isControl {
                guard header.isComplete, bufferedByteCount >= header.headerLength + header.payloadLength else { return nil }
                let start = readIndex + header.headerLength
                let payload = Self.unmasked(buffer[start..<start + header.payloadLength], key: header.maskKey, phase: 0)
                readIndex = start + header.payloadLength
                return try controlEvent(header.opcode, payload: payload)
            }
            try checkDataFrame(header)
            guard header.isComplete else { return nil }
            readIndex += header.headerLength
            if header.opcode != .continuation {
                messageOpcode = header.opcode
                messageCompressed = header.compressed
                messageWireBytes = 0
                utf8.reset()
            }
            messageWireBytes += header.payloadLength
            messageFrameCount += 1
            dataFrame = header
            dataFrameConsumed = 0
        }
        // Close received: drop anything else the peer sends.
        buffer.removeAll()
        readIndex = 0
        return nil
    }

    /// Sequencing and size rules for a data frame, checked from its header alone.
    private func checkDataFrame(_ header: FrameHeader) throws(ProtocolViolation) {
        if header.opcode == .continuation {
            if messageOpcode == nil { throw .protocolError("continuation frame without a message to continue") }
        } else if messageOpcode != nil {
            throw .protocolError("new data frame inside a fragmented message")
        }
        if header.compressed || (header.opcode == .continuation && messageCompressed) {
            // The inflated size is judged as it is inflated; the compressed bytes may not pass
            // the limit plus what stored blocks add to incompressible data (5 bytes per 64 KiB).
            let previousWire = header.opcode == .continuation ? messageWireBytes : 0
            let wireLimit = limits.maxMessageBytes + limits.maxMessageBytes / 8192 + 1024
            if header.payloadLength > wireLimit - previousWire {
                throw .tooBig("compressed message larger than \(limits.maxMessageBytes) bytes")
            }
        } else {
            let previousBytes = header.opcode == .continuation ? message.count : 0
            if header.payloadLength > limits.maxMessageBytes - previousBytes {
                throw .tooBig("message larger than \(limits.maxMessageBytes) bytes")
            }
        }
        let previousFrames = header.opcode == .continuation ? messageFrameCount : 0
        if previousFrames + 1 > limits.maxFramesPerMessage {
            throw .tooBig("message split into more than \(limits.maxFramesPerMessage) frames")
        }
    }

    /// Moves whatever payload of the current data frame has arrived into the message; returns
    /// the message when its final frame is complete.
    private mutating func continueDataFrame(_ frame: FrameHeader) throws(ProtocolViolation) -> WebSocketEvent? {
        let count = min(frame.payloadLength - dataFrameConsumed, bufferedByteCount)
        if messageCompressed {
            return try continueCompressedFrame(frame, count: count)
        }
        if count > 0 {
            let firstNew = message.count
            message.append(contentsOf: buffer[readIndex..<readIndex + count])
            Masking.apply(&message, from: firstNew, key: frame.maskKey, phase: dataFrameConsumed)
            readIndex += count
            dataFrameConsumed += count
            if messageOpcode == .text && !utf8.feed(message[firstNew...]) {
                throw .invalidPayload("text message is not valid UTF-8")
            }
        }
        guard dataFrameConsumed == frame.payloadLength else { return nil }
        dataFrame = nil
        guard frame.fin else { return nil }
        let opcode = messageOpcode
        messageOpcode = nil
        messageFrameCount = 0
        if opcode == .text {
            guard utf8.isComplete else { throw .invalidPayload("text message ends inside a UTF-8 sequence") }
            let text = String(decoding: message, as: UTF8.self)
            message.removeAll(keepingCapacity: message.capacity <= 1 << 16) // reuse for the next small message
            return .text(text)
        }
        let payload = message
        message = []
        return .binary(payload)
    }

    /// The compressed variant: unmask what arrived, inflate it onto the message (bounded by the
    /// limit), check the new text; at the message's end feed the 00 00 FF FF tail (§7.2.2).
    private mutating func continueCompressedFrame(_ frame: FrameHeader, count: Int) throws(ProtocolViolation) -> WebSocketEvent? {
        if count > 0 {
            var chunk = Array(buffer[readIndex..<readIndex + count])
            Masking.apply(&chunk, from: 0, key: frame.maskKey, phase: dataFrameConsumed)
            readIndex += count
            dataFrameConsumed += count
            try inflate(chunk[...])
        }
        guard dataFrameConsumed == frame.payloadLength else { return nil }
        dataFrame = nil
        guard frame.fin else { return nil }
        try inflate(Self.deflateTail[...])
        let opcode = messageOpcode
        messageOpcode = nil
        messageFrameCount = 0
        messageCompressed = false
        if inflateStreamEnded {
            inflater?.reset()
            inflateStreamEnded = false
        }
        if deflate?.clientNoContextTakeover == true { inflater = nil }   // nothing to remember
        let payload = message
        message = []
        if opcode == .text {
            guard utf8.isComplete else { throw .invalidPayload("text message ends inside a UTF-8 sequence") }
            return .text(String(decoding: payload, as: UTF8.self))
        }
        return .binary(payload)
    }

    static let deflateTail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    private mutating func inflate(_ input: ArraySlice<UInt8>) throws(ProtocolViolation) {
        if inflateStreamEnded { return }
        if inflater == nil {
            guard let made = RawInflater() else { throw .init(closeCode: .internalError, reason: "no memory to inflate") }
            inflater = made
        }
        let firstNew = message.count
        var ended = false
        var failure: RawInflater.Failure?
        do {
            ended = try inflater!.inflate(input, into: &message, limit: limits.maxMessageBytes)
        } catch {
            failure = error
        }
        // The text inflated so far (up to the limit) is checked before any inflate failure is
        // reported, so the same bytes give the same verdict however they were split into reads.
        let end = min(message.count, limits.maxMessageBytes)
        if messageOpcode == .text && end > firstNew && !utf8.feed(message[firstNew..<end]) {
            throw .invalidPayload("text message is not valid UTF-8")
        }
        switch failure {
        case nil: break
        case .tooLarge?: throw .tooBig("message inflates to more than \(limits.maxMessageBytes) bytes")
        case .corrupt(let reason)?: throw .invalidPayload("compressed data is invalid: \(reason)")
        case .outOfMemory?: throw .init(closeCode: .internalError, reason: "no memory to inflate")
        }
        if ended { inflateStreamEnded = true }
    }

    private mutating func controlEvent(_ opcode: Opcode, payload: [UInt8]) throws(ProtocolViolation) -> WebSocketEvent {
        switch opcode {
        case .ping: return .ping(payload)
        case .pong: return .pong(payload)
        default:
            let event = try Self.closeEvent(payload)
            state = state == .closeSent ? .closed : .closeReceived
            return event
        }
    }

    /// §5.5.1 / §7.4: empty, or a valid code followed by a UTF-8 reason.
    static func closeEvent(_ payload: [UInt8]) throws(ProtocolViolation) -> WebSocketEvent {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        if payload.count == 1 { throw .protocolError("close payload of one byte") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard CloseCode.isValidOnWire(code) else { throw .protocolError("close code \(code) is not valid on the wire") }
        guard let reason = String(validating: payload[2...], as: UTF8.self) else {
            throw .invalidPayload("close reason is not valid UTF-8")
        }
        return .close(code: CloseCode(code), reason: reason)
    }

    /// The bytes that answer `event` per RFC 6455: a pong echoing a ping's payload while open;
    /// the echo of a received close (the peer's code, 1000 when it sent none), unless we had
    /// already sent our own close. Nil when nothing is owed.
    public mutating func reply(to event: WebSocketEvent) -> [UInt8]? {
        switch event {
        case .ping(let payload):
            guard state == .open else { return nil }
            return FrameEncoder.frame(.pong, payload: payload)
        case .close(let code, _):
            guard state == .closeReceived else { return nil }
            state = .closed
            return FrameEncoder.close(code ?? .normal)
        default:
            return nil
        }
    }

    /// Starts a server-initiated close (or answers a received one): returns the close frame and
    /// moves to `closeSent` (or `closed`). Empty when a close was already sent: only one per connection.
    public mutating func close(_ code: CloseCode, reason: String = "") -> [UInt8] {
        switch state {
        case .open: state = .closeSent
        case .closeReceived: state = .closed
        case .closeSent, .closed: return []
        }
        return FrameEncoder.close(code, reason: reason)
    }

    /// Drops consumed bytes once they dominate the buffer; avoids copying per frame.
    private mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
            readIndex = 0
        } else if readIndex >= 1 << 14 && readIndex * 2 >= buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }

    static func unmasked(_ bytes: ArraySlice<UInt8>, key: (UInt8, UInt8, UInt8, UInt8), phase: Int) -> [UInt8] {
        var output = Array(bytes)
        Masking.apply(&output, from: 0, key: key, phase: phase)
        return output
    }
}
