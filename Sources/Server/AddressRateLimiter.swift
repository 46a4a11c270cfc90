import Bytes

/// A token bucket per peer address (loop thread only): `burst` at once, then `perSecond`.
///
/// Why: a client that reconnects in a loop gets a fresh per-connection command budget each time,
/// and every new `/ws` session costs a handshake and a snapshot (tens of KB written through the
/// loop). Counting new sessions per address bounds what one host can make the server do, so one
/// flooding viewer cannot push the producers' acks out (docs/benchmarks.md, issue 16).
struct AddressRateLimiter {
    let perSecond: Double
    let burst: Double
    private var buckets: [String: (tokens: Double, updated: Int64)] = [:]

    init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = Double(burst)
    }

    /// Takes a token for `address`; false when it has none left.
    mutating func admit(_ address: String, now: Int64 = Monotonic.now().nanoseconds) -> Bool {
        var bucket = buckets[address] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + Double(now - bucket.updated) / 1e9 * perSecond)
        bucket.updated = now
        guard bucket.tokens >= 1 else {
            buckets[address] = bucket
            return false
        }
        bucket.tokens -= 1
        buckets[address] = bucket
        if buckets.count > 10_000 { forgetRefilled(now: now) }
        return true
    }

    /// Drops addresses whose bucket has refilled: they would start full anyway, so the table
    /// holds only hosts that were busy lately.
    mutating func forgetRefilled(now: Int64 = Monotonic.now().nanoseconds) {
        let refill = (burst / max(perSecond, 0.001)) * 1e9
        buckets = buckets.filter { Double(now - $0.value.updated) < refill }
    }

    var trackedAddresses: Int { buckets.count }
}
