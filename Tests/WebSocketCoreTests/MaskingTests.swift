import Testing
@testable import WebSocketCore

@Suite struct MaskingTests {
    @Test func wordAtATimeMatchesByteAtATimeForEveryStartPhaseAndLength() {
        let key: (UInt8, UInt8, UInt8, UInt8) = (0xA1, 0x5B, 0x3C, 0xF0)
        let keyBytes: [UInt8] = [0xA1, 0x5B, 0x3C, 0xF0]
        for length in 0..<40 {
            for start in 0..<min(length + 1, 5) {
                for phase in 0..<4 {
                    let original = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
                    var fast = original
                    Masking.apply(&fast, from: start, key: key, phase: phase)
                    let expected = original.indices.map { index in
                        index < start ? original[index] : original[index] ^ keyBytes[(index - start + phase) & 3]
                    }
                    #expect(fast == expected, "length \(length) start \(start) phase \(phase)")
                }
            }
        }
    }
}
