import WebSocketCore

/// Splits the server's (unmasked) byte stream into whole frames. It keeps only the unparsed tail,
/// and hands each frame's payload as a range of its buffer so callers can byte-search in place.
/// A permessage-deflate message (RSV1) is inflated into `assembled` (the server sends with
/// `server_no_context_takeover`, so each message inflates on its own).
struct ServerFrameReader {
    enum Frame {
        /// A whole data frame (fragmented messages are reassembled: `fragmented` is then true).
        case message(opcode: UInt8, payload: Range<Int>)
        case ping(payload: [UInt8])
        case close(code: Int)
    }

    private(set) var buffer: [UInt8] = []
    private var readIndex = 0
    private var fragments: [UInt8]? = nil
    private var fragmentOpcode: UInt8 = 0
    private var fragmentCompressed = false
    private var inflater: RawInflater?
    /// Messages that came compressed.
    private(set) var compressedMessages = 0

    init(initial: [UInt8] = []) { buffer = initial }

    mutating func append(_ bytes: ArraySlice<UInt8>) {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > 65_536 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes of a reassembled fragmented message; valid after `.message` until the next call.
    private(set) var assembled: [UInt8] = []

    /// The next whole frame, or nil when more bytes are needed. Payload ranges index `buffer`
    /// unless the message was fragmented, in which case they index `assembled`.
    mutating func next() -> (frame: Frame, inAssembled: Bool)? {
        while true {
            let available = buffer.count - readIndex
            guard available >= 2 else { return nil }
            let first = buffer[readIndex], second = buffer[readIndex + 1]
            var length = Int(second & 0x7F)
            var headerLength = 2
            if length == 126 {
                guard available >= 4 else { return nil }
                length = Int(buffer[readIndex + 2]) << 8 | Int(buffer[readIndex + 3])
                headerLength = 4
            } else if length == 127 {
                guard available >= 10 else { return nil }
                length = 0
                for offset in 2..<10 { length = length << 8 | Int(buffer[readIndex + offset]) }
                headerLength = 10
            }
            guard available >= headerLength + length else { return nil }
            let start = readIndex + headerLength
            let payload = start..<(start + length)
            readIndex = payload.upperBound
            let opcode = first & 0x0F, fin = first & 0x80 != 0, compressed = first & 0x40 != 0
            switch opcode {
            case 0x9:
                return (.ping(payload: Array(buffer[payload])), false)
            case 0x8:
                let code = length >= 2 ? Int(buffer[start]) << 8 | Int(buffer[start + 1]) : 1005
                return (.close(code: code), false)
            case 0xA:
                continue
            case 0x0:
                fragments?.append(contentsOf: buffer[payload])
                if fin, let whole = fragments {
                    assembled = fragmentCompressed ? inflate(whole[...]) : whole
                    fragments = nil
                    return (.message(opcode: fragmentOpcode, payload: 0..<assembled.count), true)
                }
            default:
                if fin {
                    if compressed {
                        assembled = inflate(buffer[payload])
                        return (.message(opcode: opcode, payload: 0..<assembled.count), true)
                    }
                    return (.message(opcode: opcode, payload: payload), false)
                }
                fragments = Array(buffer[payload])
                fragmentOpcode = opcode
                fragmentCompressed = compressed
            }
        }
    }

    private mutating func inflate(_ data: ArraySlice<UInt8>) -> [UInt8] {
        compressedMessages += 1
        if inflater == nil { inflater = RawInflater() }
        inflater?.reset()
        var output: [UInt8] = []
        let input: [UInt8] = Array(data) + [0, 0, 0xFF, 0xFF]
        _ = try? inflater?.inflate(input[...], into: &output, limit: 64 << 20)
        return output
    }
}
