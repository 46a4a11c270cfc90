/// RFC 6455 §5.3 masking: XOR with a 4-byte key that repeats over the payload. The same
/// operation masks (client side) and unmasks (server side).
enum Masking {
    /// XORs `bytes[start...]` in place, where `bytes[start]` is payload byte number `phase` (so a
    /// frame that arrives in pieces is unmasked piece by piece).
    ///
    /// Eight bytes at a time: the key tiles a 64-bit word exactly, so one XOR per word does the
    /// work of eight. Through `MutableRawSpan` the accesses stay bounds-checked with no pointers;
    /// the loads are spelled "unsafe" only because arbitrary types may have invalid bit patterns,
    /// which `UInt64` does not.
    static func apply(_ bytes: inout [UInt8], from start: Int, key: (UInt8, UInt8, UInt8, UInt8), phase: Int) {
        // The key as a little-endian word, rotated so its lowest byte is key byte `phase`.
        let key32 = UInt32(key.0) | UInt32(key.1) << 8 | UInt32(key.2) << 16 | UInt32(key.3) << 24
        let shift = UInt32(phase & 3) * 8
        let rotated = shift == 0 ? key32 : key32 >> shift | key32 << (32 - shift)
        let pattern = UInt64(rotated) | UInt64(rotated) << 32
        let wordPattern = UInt64(littleEndian: pattern)   // byte order in memory = payload order
        var span = bytes.mutableSpan
        var raw = span.mutableBytes
        var index = start
        let end = raw.byteCount
        while index + 8 <= end {
            let word = raw.unsafeLoadUnaligned(fromByteOffset: index, as: UInt64.self)
            raw.storeBytes(of: word ^ wordPattern, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        // Whole words keep the key phase, so the tail starts again at the pattern's first byte.
        var tail = pattern
        while index < end {
            let byte = raw.unsafeLoadUnaligned(fromByteOffset: index, as: UInt8.self)
            raw.storeBytes(of: byte ^ UInt8(truncatingIfNeeded: tail), toByteOffset: index, as: UInt8.self)
            tail >>= 8
            index += 1
        }
    }
}
