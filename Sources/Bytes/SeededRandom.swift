/// SplitMix64: tiny, fast, and the same sequence on every platform for a given seed, so a
/// simulator run, a jitter sequence, a property test or a benchmark stream can be reproduced from
/// its seed (and resumed from `state`). The one generator of the project: sources, tests and
/// benches all use it.
public struct SeededRandom: RandomNumberGenerator, Sendable, Equatable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// In 0..<bound (modulo draw: the bias is far below what a test or a bench could notice).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// In low...high.
    public mutating func between(_ low: Int64, _ high: Int64) -> Int64 { low + Int64(below(Int(high - low + 1))) }

    /// One of `items` (not empty).
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
