import Bytes
/// Exponential backoff: `initial × 2^(attempt-1)`, capped; optionally "full jitter" (a uniform
/// pick in [delay/2, delay]) so many pollers restarted together do not retry in lockstep.
public struct Backoff: Sendable, Equatable {
    public var initialNanoseconds: Int64
    public var capNanoseconds: Int64
    public var jitter: Bool

    public init(initialMilliseconds: Int64 = 500, capSeconds: Int64 = 30, jitter: Bool = false) {
        initialNanoseconds = initialMilliseconds * 1_000_000
        capNanoseconds = capSeconds * 1_000_000_000
        self.jitter = jitter
    }

    /// The delay before retry number `attempt` (1 = first retry).
    public func delay(attempt: Int, random: inout some RandomNumberGenerator) -> Int64 {
        let doublings = min(max(attempt - 1, 0), 40)
        var delay = initialNanoseconds
        for _ in 0..<doublings where delay < capNanoseconds { delay *= 2 }
        delay = min(delay, capNanoseconds)
        guard jitter, delay > 1 else { return delay }
        return delay / 2 + Int64.random(in: 0...(delay - delay / 2), using: &random)
    }

    /// Without jitter the generator is never used.
    public func delay(attempt: Int) -> Int64 {
        var generator = SeededRandom(seed: 0)
        return Backoff(initialNanoseconds: initialNanoseconds, capNanoseconds: capNanoseconds, jitter: false)
            .delay(attempt: attempt, random: &generator)
    }

    init(initialNanoseconds: Int64, capNanoseconds: Int64, jitter: Bool) {
        self.initialNanoseconds = initialNanoseconds; self.capNanoseconds = capNanoseconds; self.jitter = jitter
    }
}
