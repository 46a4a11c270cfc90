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
        let keyBytes = [key.0, key.1, key.2, key.3]
        var pattern: UInt64 = 0
        for offset in 0..<8 {
            pattern |= UInt64(keyBytes[(phase + offset) & 3]) << UInt64(8 * offset)
        }
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
        // Whole words keep the key phase, so the tail starts at key byte `phase`.
        var offset = phase
        while index < end {
            let byte = raw.unsafeLoadUnaligned(fromByteOffset: index, as: UInt8.self)
            raw.storeBytes(of: byte ^ keyBytes[offset & 3], toByteOffset: index, as: UInt8.self)
            offset += 1
            index += 1
        }
    }
}
