import Testing
@testable import WebSocketCore

@Suite struct UTF8ValidatorTests {
    private func isValid(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return validator.feed(bytes) && validator.isComplete
    }

    @Test(arguments: [
        [], [0x00], [0x7F], Array("Hello-µ@ßöäüàá-UTF-8!!".utf8),
        [0xC2, 0x80], [0xDF, 0xBF],                   // 2-byte bounds
        [0xE0, 0xA0, 0x80], [0xEF, 0xBF, 0xBF],       // 3-byte bounds (U+0800, U+FFFF)
        [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],       // around the surrogates
        [0xEF, 0xBF, 0xBE],                           // U+FFFE noncharacter is still valid UTF-8
        [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], // U+10000, max U+10FFFF
        Array("κόσμε".utf8),
    ])
    func validSequences(bytes: [UInt8]) {
        #expect(isValid(bytes))
    }

    @Test(arguments: [
        [0x80], [0xBF],                               // lone continuation
        [0xC0, 0x80], [0xC1, 0xBF],                   // overlong 2-byte (C0/C1 never valid)
        [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],       // overlong 3-byte
        [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], // overlong 4-byte
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],       // surrogates D800, DFFF
        [0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80],         // surrogate pair in CESU form
        [0xF4, 0x90, 0x80, 0x80], [0xF7, 0xBF, 0xBF, 0xBF], // above U+10FFFF
        [0xF5], [0xF8, 0x88, 0x80, 0x80, 0x80],       // 5-byte form
        [0xFC, 0x84, 0x80, 0x80, 0x80, 0x80],         // 6-byte form
        [0xFE], [0xFF],
        [0xC2, 0x41], [0xE1, 0x80, 0x41], [0xF1, 0x80, 0x80, 0x41], // bad continuation
        [0xC0, 0xAF], [0xE0, 0x80, 0xAF],             // overlong "/"
    ])
    func invalidSequences(bytes: [UInt8]) {
        #expect(!isValid(bytes))
    }

    @Test(arguments: [[0xC2], [0xE0, 0xA0], [0xF0, 0x90, 0x80], [0x41, 0xF4]])
    func truncatedSequenceIsIncompleteButNotYetInvalid(bytes: [UInt8]) {
        var validator = UTF8Validator()
        do { let accepted = validator.feed(bytes); #expect(accepted) }
        #expect(!validator.isComplete)
    }

    @Test(arguments: [[0xF4, 0x90], [0xED, 0xA0], [0xE0, 0x80], [0xF0, 0x80], [0xC0], [0xF5]])
    func impossiblePrefixFailsAtOnce(prefix: [UInt8]) {
        var validator = UTF8Validator()
        do { let accepted = validator.feed(prefix); #expect(!accepted) }
    }

    @Test(arguments: ["é", "€", "𝄞", "\u{10FFFF}", "\u{D7FF}", "\u{E000}"])
    func characterSplitAtEveryPositionAcrossFeeds(character: String) {
        let bytes = Array(("a" + character + "b").utf8)
        for split in 1..<bytes.count {
            var validator = UTF8Validator()
            do { let accepted = validator.feed(bytes[..<split]); #expect(accepted) }
            #expect(validator.isComplete == (split == 1 || split == bytes.count - 1))
            do { let accepted = validator.feed(bytes[split...]); #expect(accepted) }
            #expect(validator.isComplete)
        }
        var byteByByte = UTF8Validator()
        for byte in bytes {
            let accepted = byteByByte.feed([byte])
            #expect(accepted)
        }
        #expect(byteByByte.isComplete)
    }

    @Test func nonContiguousCollectionsAreValidatedToo() {
        var validator = UTF8Validator()
        let euro = Array("€".utf8)
        let first = validator.feed(euro.prefix(2).lazy.map { $0 })
        let second = validator.feed(euro.suffix(1).lazy.map { $0 })
        #expect(first && second && validator.isComplete)
        let bad = validator.feed([0xC0, 0x80].lazy.map { $0 })
        #expect(!bad)
    }

    @Test func failureIsStickyUntilReset() {
        var validator = UTF8Validator()
        do { let accepted = validator.feed([0xFF]); #expect(!accepted) }
        do { let accepted = validator.feed([0x41]); #expect(!accepted) }
        #expect(!validator.isComplete)
        validator.reset()
        do { let accepted = validator.feed([0x41]); #expect(accepted) }
        #expect(validator.isComplete)
    }

    @Test func agreesWithTheStandardLibraryOnEveryTwoByteInput() {
        for first in 0...255 {
            for second in 0...255 {
                let bytes = [UInt8(first), UInt8(second)]
                #expect(isValid(bytes) == (String(validating: bytes, as: UTF8.self) != nil))
            }
        }
    }

    /// A 3-byte prefix is accepted exactly when it is, or can still become, valid UTF-8.
    @Test func agreesWithTheStandardLibraryOnThreeBytePrefixes() {
        for first in 0xE0...0xF4 {
            for second in 0x70...0xC5 {
                for third in [0x41, 0x80, 0xBF, 0xC0] {
                    let bytes = [UInt8(first), UInt8(second), UInt8(third)]
                    var validator = UTF8Validator()
                    let prefixOK = validator.feed(bytes)
                    let complete = String(validating: bytes + [0x80], as: UTF8.self) != nil
                        || String(validating: bytes, as: UTF8.self) != nil
                    #expect(prefixOK == complete)
                }
            }
        }
    }
}
