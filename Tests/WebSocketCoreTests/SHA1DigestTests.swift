import Testing
@testable import WebSocketCore

/// FIPS 180-4 / RFC 3174 vectors, plus lengths around the 55/56/64-byte padding boundaries
/// checked against `sha1sum` output.
@Suite struct SHA1DigestTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }.joined()
    }

    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
        (String(repeating: "a", count: 55), "c1c8bbdc22796e28c0e15163d20899b65621d65a"),
        (String(repeating: "a", count: 56), "c2db330f6083854c99d4b5bfb6e8f29f201be699"),
        (String(repeating: "a", count: 64), "0098ba824b5c16427bd7a1122a5a442a25ec644d"),
    ])
    func knownVectors(input: String, expected: String) {
        #expect(Self.hex(SHA1Digest.digest(Array(input.utf8))) == expected)
    }

    @Test func millionAs() {
        #expect(Self.hex(SHA1Digest.digest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    /// RFC 6455 §1.3: the handshake's worked example.
    @Test func rfc6455AcceptKey() {
        let digest = SHA1Digest.digest(Array("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11".utf8))
        #expect(Self.hex(digest) == "b37a4f2cc0624f1690f64606cf385945b2bec4ea")
    }

    /// The digest does not depend on how the message is split across `update` calls (whole words
    /// are taken only at word boundaries; the rest byte by byte), whatever the length's padding.
    @Test func piecewiseUpdatesGiveTheOneShotDigest() {
        for length in [0, 1, 3, 4, 5, 23, 24, 55, 56, 57, 60, 63, 64, 65, 119, 120, 128, 130] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 5) }
            let expected = SHA1Digest.digest(message)
            for first in Set([0, 1, 3, length / 2, length]) where first <= length {
                for second in Set([first, min(first + 5, length), length]) {
                    var hasher = SHA1Digest()
                    hasher.update(message[..<first])
                    hasher.update(message[first..<second])
                    hasher.update(message[second...])
                    #expect(hasher.finish() == expected, "length \(length) split at \(first), \(second)")
                }
            }
        }
    }
}
