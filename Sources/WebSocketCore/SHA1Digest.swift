/// SHA-1 (FIPS 180-4), written here so the protocol core needs no crypto library: RFC 6455 fixes
/// the algorithm for `Sec-WebSocket-Accept`, where it hashes a 60-byte string once per
/// handshake. Not for anything that needs collision resistance.
///
/// Incremental (`update` with the key, then with the GUID, then `finish`), with the block and
/// the message schedule in fixed-size inline storage, words taken four bytes at a time: no
/// array is allocated but the digest, and the handshake does not first concatenate key and
/// GUID. The array-based version cost ~11,000 instructions per handshake.
struct SHA1Digest {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
    /// The block being filled, as big-endian words (bytes are shifted in as they come).
    private var block = InlineArray<16, UInt32>(repeating: 0)
    /// Bytes in `block` so far (0..<64).
    private var blockFill = 0
    private var messageLength: UInt64 = 0

    static func digest(_ message: [UInt8]) -> [UInt8] {
        var hasher = SHA1Digest()
        hasher.update(message[...])
        return hasher.finish()
    }

    mutating func update(_ bytes: ArraySlice<UInt8>) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            // A whole word at once while the block is at a word boundary (the handshake's key
            // and GUID both are: 24 and 36 bytes), else byte by byte.
            guard blockFill & 3 == 0, bytes.endIndex - index >= 4 else {
                append(bytes[index])
                index += 1
                continue
            }
            block[blockFill >> 2] = UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16
                | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
            index += 4
            blockFill += 4
            messageLength &+= 4
            if blockFill == 64 {
                compressBlock()
                blockFill = 0
            }
        }
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        let word = blockFill >> 2
        block[word] = block[word] << 8 | UInt32(byte)
        blockFill += 1
        messageLength &+= 1
        if blockFill == 64 {
            compressBlock()
            blockFill = 0
        }
    }

    /// Pads (0x80, zeros to 56 mod 64, the bit length big-endian) and returns the 20-byte digest.
    mutating func finish() -> [UInt8] {
        let bitLength = messageLength &* 8
        append(0x80)
        // Zero bytes to the end of the word being filled, then whole zero words.
        while blockFill & 3 != 0 { append(0) }
        if blockFill > 56 {
            // No room for the length in this block: it goes into one more.
            for word in (blockFill >> 2)..<16 { block[word] = 0 }
            compressBlock()
            blockFill = 0
        }
        for word in (blockFill >> 2)..<14 { block[word] = 0 }
        block[14] = UInt32(truncatingIfNeeded: bitLength >> 32)
        block[15] = UInt32(truncatingIfNeeded: bitLength)
        compressBlock()
        blockFill = 0

        var out: [UInt8] = []
        out.reserveCapacity(20)
        func appendBigEndian(_ word: UInt32) {
            out.append(UInt8(word >> 24))
            out.append(UInt8(truncatingIfNeeded: word >> 16))
            out.append(UInt8(truncatingIfNeeded: word >> 8))
            out.append(UInt8(truncatingIfNeeded: word))
        }
        appendBigEndian(state.0)
        appendBigEndian(state.1)
        appendBigEndian(state.2)
        appendBigEndian(state.3)
        appendBigEndian(state.4)
        return out
    }

    /// The compression function on the full `block`. The message schedule is a ring of 16
    /// words; rounds go five at a time with the roles of `a`…`e` rotated instead of the values
    /// moved (the usual unrolling), each 20-round stage in its own loop.
    private mutating func compressBlock() {
        var w = block
        var (a, b, c, d, e) = state
        @inline(__always) func word(_ t: Int) -> UInt32 {
            if t < 16 { return w[t] }
            let next = rotateLeft(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1)
            w[t & 15] = next
            return next
        }
        @inline(__always) func fiveRounds(from t: Int, _ k: UInt32, _ f: (UInt32, UInt32, UInt32) -> UInt32) {
            e = e &+ rotateLeft(a, 5) &+ f(b, c, d) &+ k &+ word(t); b = rotateLeft(b, 30)
            d = d &+ rotateLeft(e, 5) &+ f(a, b, c) &+ k &+ word(t + 1); a = rotateLeft(a, 30)
            c = c &+ rotateLeft(d, 5) &+ f(e, a, b) &+ k &+ word(t + 2); e = rotateLeft(e, 30)
            b = b &+ rotateLeft(c, 5) &+ f(d, e, a) &+ k &+ word(t + 3); d = rotateLeft(d, 30)
            a = a &+ rotateLeft(b, 5) &+ f(c, d, e) &+ k &+ word(t + 4); c = rotateLeft(c, 30)
        }
        for t in stride(from: 0, to: 20, by: 5) { fiveRounds(from: t, 0x5A82_7999) { x, y, z in (x & y) | (~x & z) } }
        for t in stride(from: 20, to: 40, by: 5) { fiveRounds(from: t, 0x6ED9_EBA1) { x, y, z in x ^ y ^ z } }
        for t in stride(from: 40, to: 60, by: 5) { fiveRounds(from: t, 0x8F1B_BCDC) { x, y, z in (x & y) | (x & z) | (y & z) } }
        for t in stride(from: 60, to: 80, by: 5) { fiveRounds(from: t, 0xCA62_C1D6) { x, y, z in x ^ y ^ z } }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
    }

    @inline(__always)
    private func rotateLeft(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value << count) | (value >> (32 - count))
    }
}
