/// A decoded client frame header (RFC 6455 §5.2). Checks that need only the header happen
/// here, so a bad frame is refused before any of its payload is read.
struct FrameHeader {
    var fin: Bool
    /// RSV1: the message is compressed (permessage-deflate; only on a message's first frame).
    var compressed: Bool
    var opcode: Opcode
    var payloadLength: Int
    var maskKey: (UInt8, UInt8, UInt8, UInt8)
    /// Bytes of the header itself: 2, plus 2 or 8 of extended length, plus 4 of mask key.
    var headerLength: Int

    /// Parses the header at the start of `bytes`; nil when more bytes are needed. Throws as soon as
    /// the bytes present already break a rule (RSV bits, reserved opcode, unmasked, bad control
    /// frame, 64-bit length with the top bit set).
    /// `allowCompressed`: permessage-deflate was negotiated, so RSV1 may mark a data message.
    static func parse(_ bytes: ArraySlice<UInt8>, allowCompressed: Bool = false) throws(ProtocolViolation) -> FrameHeader? {
        guard bytes.count >= 2 else { return nil }
        let start = bytes.startIndex
        let first = bytes[start]
        let second = bytes[start + 1]
        // RSV2 and RSV3 belong to no extension we negotiate (§5.2); RSV1 only to permessage-deflate,
        // and there only on the first frame of a data message (RFC 7692 §6.1).
        if first & 0x30 != 0 { throw .protocolError("reserved bits set") }
        guard let opcode = Opcode(rawValue: first & 0x0F) else { throw .protocolError("reserved opcode") }
        let compressed = first & 0x40 != 0
        if compressed {
            if !allowCompressed { throw .protocolError("reserved bits set") }
            if opcode.isControl { throw .protocolError("RSV1 on a control frame") }
            if opcode == .continuation { throw .protocolError("RSV1 on a continuation frame") }
        }
        let fin = first & 0x80 != 0
        // §5.1: a server must close on an unmasked client frame.
        if second & 0x80 == 0 { throw .protocolError("client frame not masked") }
        let shortLength = Int(second & 0x7F)
        if opcode.isControl {
            if !fin { throw .protocolError("fragmented control frame") }
            if shortLength > 125 { throw .protocolError("control frame payload over 125 bytes") }
        }
        var length = shortLength
        var offset = 2
        if shortLength == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])
            offset = 4
        } else if shortLength == 127 {
            guard bytes.count >= 10 else { return nil }
            if bytes[start + 2] & 0x80 != 0 { throw .protocolError("64-bit payload length with the top bit set") }
            var value: UInt64 = 0
            for index in 2..<10 { value = value << 8 | UInt64(bytes[start + index]) }
            // Non-minimal encodings are accepted: RFC 6455 says "must" for senders only.
            length = Int(value)
            offset = 10
        }
        guard bytes.count >= offset + 4 else {
            // The length is known before the mask key: return a header-less answer but let the
            // caller check the size first by reporting the partial header.
            return FrameHeader(fin: fin, compressed: compressed, opcode: opcode, payloadLength: length, maskKey: (0, 0, 0, 0), headerLength: -1)
        }
        let key = (bytes[start + offset], bytes[start + offset + 1], bytes[start + offset + 2], bytes[start + offset + 3])
        return FrameHeader(fin: fin, compressed: compressed, opcode: opcode, payloadLength: length, maskKey: key, headerLength: offset + 4)
    }

    /// False while the mask key has not arrived yet (the length and flags are already valid).
    var isComplete: Bool { headerLength > 0 }
}
