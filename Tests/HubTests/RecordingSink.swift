import Foundation
import Bytes
import Hub

/// A subscriber's socket as the hub sees it, in a test: it keeps every buffer the hub queued and
/// splits them back into the text messages a client would read.
final class RecordingSink: FrameSink {
    private(set) var buffers: [SharedBuffer] = []

    func send(_ frame: SharedBuffer) { buffers.append(frame) }

    /// The payloads of every frame received, in order (server frames: unmasked, FIN set).
    var messages: [String] {
        var out: [String] = []
        for buffer in buffers {
            let bytes = buffer.bytes
            var index = 0
            while index < bytes.count {
                precondition(bytes[index] == 0x81, "expected a final text frame")
                var length = Int(bytes[index + 1] & 0x7F)
                index += 2
                if length == 126 {
                    length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
                    index += 2
                } else if length == 127 {
                    length = bytes[index..<index + 8].reduce(0) { $0 << 8 | Int($1) }
                    index += 8
                }
                out.append(String(decoding: bytes[index..<index + length], as: UTF8.self))
                index += length
            }
        }
        return out
    }

    /// The seq of every message that carries one, in order.
    var seqs: [Int64] {
        messages.compactMap { message in
            guard let range = message.range(of: "\"seq\":") else { return nil }
            return Int64(message[range.upperBound...].prefix { $0.isNumber })
        }
    }
}
