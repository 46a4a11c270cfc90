import CZlib

/// The only code that touches zlib: raw DEFLATE streams (RFC 1951, no zlib header) for
/// permessage-deflate. Each wrapper owns one heap-allocated `z_stream` (zlib keeps a pointer to
/// it, so it must not move) and frees it in `deinit`. Loop-confined, like the connection that
/// owns it; never shared across threads.
public final class RawInflater {
    private let stream: UnsafeMutablePointer<z_stream>

    public enum Failure: Error, Equatable {
        /// More output than the limit allowed: the rest was never inflated.
        case tooLarge
        /// Not a valid DEFLATE stream (bad block type, distance too far back …).
        case corrupt(String)
        case outOfMemory
    }

    /// A raw inflater accepting windows up to 2^`windowBits` (15 accepts every window 8…15).
    public init?(windowBits: Int = 15) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard lw_inflate_init_raw(stream, Int32(windowBits)) == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Forgets the history (a new message under `client_no_context_takeover`).
    public func reset() { inflateReset(stream) }

    /// Inflates all of `input`, appending to `output`, which never grows past `limit` bytes plus
    /// one chunk: as soon as it would, `tooLarge` is thrown and nothing more is inflated (a
    /// decompression bomb costs at most `limit` + 1 bytes of output). Returns true when the DEFLATE stream
    /// ended (a block with BFINAL): the caller resets before the next message.
    @discardableResult
    public func inflate(_ input: ArraySlice<UInt8>, into output: inout [UInt8], limit: Int) throws(Failure) -> Bool {
        if input.isEmpty { return false }
        let chunkSize = 16 * 1024
        var result: Int32 = Z_OK
        var inputLeft = 0
        try input.withUnsafeBufferPointer { (source: UnsafeBufferPointer<UInt8>) throws(Failure) -> Void in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress!)
            stream.pointee.avail_in = UInt32(source.count)
            defer { stream.pointee.next_in = nil; stream.pointee.avail_in = 0 }
            while true {
                let start = output.count
                // One byte more than the limit allows, so passing it is seen, not silently cut;
                // sized to the input (JSON inflates ~3-10x) so a small message zero-fills little.
                let guess = Swift.max(256, Swift.min(chunkSize, source.count * 8))
                let room = Swift.min(guess, Swift.max(limit - start, 0) + 1)
                output.append(contentsOf: repeatElement(0, count: room))
                var produced = 0
                output.withUnsafeMutableBufferPointer { target in
                    stream.pointee.next_out = target.baseAddress! + start
                    stream.pointee.avail_out = UInt32(room)
                    result = CZlib.inflate(stream, Z_SYNC_FLUSH)
                    produced = room - Int(stream.pointee.avail_out)
                    stream.pointee.next_out = nil
                    stream.pointee.avail_out = 0
                }
                output.removeLast(room - produced)
                inputLeft = Int(stream.pointee.avail_in)
                if output.count > limit { throw .tooLarge }
                switch result {
                case Z_OK:
                    // Output full: more may be pending; input left: keep going.
                    if produced == room || inputLeft > 0 { continue }
                    return
                case Z_BUF_ERROR:
                    // No progress possible: all input used and nothing pending.
                    return
                case Z_STREAM_END:
                    return
                case Z_MEM_ERROR:
                    throw .outOfMemory
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(result)"
                    throw .corrupt(message)
                }
            }
        }
        return result == Z_STREAM_END
    }
}

/// A raw deflater that compresses whole messages one at a time with no context kept between them
/// (`server_no_context_takeover`), so one compressed message can be shared by every subscriber.
/// The state is reset, not freed, between messages: one deflater per window size serves a
/// whole loop (`MessageDeflater`).
public final class RawDeflater {
    private let stream: UnsafeMutablePointer<z_stream>

    /// `windowBits` 9…15. With `huffmanOnly` no back-references are made at all, so the output is
    /// valid for any peer window (zlib cannot make a raw 256-byte window: 8 is served this way).
    public init?(windowBits: Int, level: Int32 = 6, memLevel: Int32 = 8, huffmanOnly: Bool = false) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let strategy = huffmanOnly ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY
        guard lw_deflate_init_raw(stream, level, Int32(windowBits), memLevel, strategy) == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// `input` as one permessage-deflate payload (RFC 7692 §7.2.1): compressed, flushed with
    /// Z_SYNC_FLUSH, the trailing 00 00 FF FF removed; then the stream is reset.
    public func compressMessage(_ input: [UInt8]) -> [UInt8] {
        defer { deflateReset(stream) }
        var output: [UInt8] = []
        output.reserveCapacity(Int(deflateBound(stream, UInt(input.count))) + 8)
        input.withUnsafeBufferPointer { source in
            stream.pointee.next_in = source.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
            stream.pointee.avail_in = UInt32(source.count)
            while true {
                let start = output.count
                let room = Swift.max(64, Int(deflateBound(stream, UInt(stream.pointee.avail_in))) + 16)
                output.append(contentsOf: repeatElement(0, count: room))
                var produced = 0
                output.withUnsafeMutableBufferPointer { target in
                    stream.pointee.next_out = target.baseAddress! + start
                    stream.pointee.avail_out = UInt32(room)
                    _ = deflate(stream, Z_SYNC_FLUSH)
                    produced = room - Int(stream.pointee.avail_out)
                }
                output.removeLast(room - produced)
                // Done when all input is taken and the flush left room unused.
                if stream.pointee.avail_in == 0 && produced < room { break }
            }
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
            stream.pointee.avail_out = 0
        }
        if output.count >= 4 && output.suffix(4).elementsEqual([0x00, 0x00, 0xFF, 0xFF]) {
            output.removeLast(4)
        }
        return output
    }
}
