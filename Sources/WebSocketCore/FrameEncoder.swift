/// Builds frames. Server-to-client frames are never masked (RFC 6455 §5.1); the masked variant
/// exists for tests, fuzzing and the bench client.
public enum FrameEncoder {
    public static func frame(_ opcode: Opcode, payload: some Collection<UInt8>, fin: Bool = true, compressed: Bool = false) -> [UInt8] {
        var bytes = header(opcode, payloadLength: payload.count, fin: fin, compressed: compressed)
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// The header alone, so one encoded payload can be shared by many sockets (writev).
    /// `compressed` sets RSV1 (a permessage-deflate message; first frame only).
    public static func header(_ opcode: Opcode, payloadLength: Int, fin: Bool = true, compressed: Bool = false) -> [UInt8] {
        headerBytes(opcode, payloadLength: payloadLength, fin: fin, masked: false, compressed: compressed)
    }

    /// A close frame with `code` and `reason`, the reason cut to fit the 125-byte control-frame
    /// limit without splitting a UTF-8 character.
    public static func close(_ code: CloseCode, reason: String = "") -> [UInt8] {
        frame(.close, payload: closePayload(code, reason: reason))
    }

    static func closePayload(_ code: CloseCode, reason: String) -> [UInt8] {
        var payload = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        var used = 2
        for scalar in reason.unicodeScalars {
            let width = UTF8.width(scalar)
            if used + width > 125 { break }
            payload.append(contentsOf: String(scalar).utf8)
            used += width
        }
        return payload
    }

    /// A client-to-server frame masked with `maskKey`.
    public static func maskedFrame(_ opcode: Opcode, payload: some Collection<UInt8>, fin: Bool = true,
                                   maskKey: (UInt8, UInt8, UInt8, UInt8), compressed: Bool = false) -> [UInt8] {
        var bytes = headerBytes(opcode, payloadLength: payload.count, fin: fin, masked: true, compressed: compressed)
        bytes.append(contentsOf: [maskKey.0, maskKey.1, maskKey.2, maskKey.3])
        let payloadStart = bytes.count
        bytes.append(contentsOf: payload)
        Masking.apply(&bytes, from: payloadStart, key: maskKey, phase: 0)
        return bytes
    }

    private static func headerBytes(_ opcode: Opcode, payloadLength: Int, fin: Bool, masked: Bool, compressed: Bool = false) -> [UInt8] {
        precondition(payloadLength >= 0, "negative payload length")
        let first = (fin ? 0x80 : 0) | (compressed ? 0x40 : 0) | opcode.rawValue
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payloadLength <= 125 {
            return [first, maskBit | UInt8(payloadLength)]
        } else if payloadLength <= 0xFFFF {
            return [first, maskBit | 126, UInt8(payloadLength >> 8), UInt8(payloadLength & 0xFF)]
        } else {
            var bytes: [UInt8] = [first, maskBit | 127]
            let length = UInt64(payloadLength)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
            return bytes
        }
    }
}
