import Bytes

/// A token bucket per peer address (loop thread only): `burst` at once, then `perSecond`.
///
/// Why: a client that reconnects in a loop gets a fresh per-connection command budget each time,
/// and every new `/ws` session costs a handshake and a snapshot (tens of KB written through the
/// loop). Counting new sessions per address bounds what one host can make the server do, so one
/// flooding viewer cannot push the producers' acks out (docs/benchmarks.md, issue 16).
///
/// A class: the server keeps it in a `lazy var`, and mutating a struct through a lazy property
/// copies it out and back, so every admission copied the whole table (up to 10,000 addresses).
final class AddressRateLimiter {
    let perSecond: Double
    let burst: Double
    private var buckets: [String: (tokens: Double, updated: Int64)] = [:]

    init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = Double(burst)
    }

    /// Takes a token for `address`; false when it has none left.
    func admit(_ address: String, now: Int64 = Monotonic.now().nanoseconds) -> Bool {
        // The bucket is updated in place: one hash of the address per new session, not a
        // lookup and then a store.
        let admitted = Self.take(from: &buckets[address, default: (burst, now)], now: now, burst: burst, perSecond: perSecond)
        if admitted && buckets.count > 10_000 { forgetRefilled(now: now) }
        return admitted
    }

    /// Refills `bucket` for the time since its last update, then takes a token if it has one.
    private static func take(from bucket: inout (tokens: Double, updated: Int64), now: Int64, burst: Double, perSecond: Double) -> Bool {
        bucket.tokens = min(burst, bucket.tokens + Double(now - bucket.updated) / 1e9 * perSecond)
        bucket.updated = now
        guard bucket.tokens >= 1 else { return false }
        bucket.tokens -= 1
        return true
    }

    /// Drops addresses whose bucket has refilled: they would start full anyway, so the table
    /// holds only hosts that were busy lately.
    func forgetRefilled(now: Int64 = Monotonic.now().nanoseconds) {
        let refill = (burst / max(perSecond, 0.001)) * 1e9
        buckets = buckets.filter { Double(now - $0.value.updated) < refill }
    }

    var trackedAddresses: Int { buckets.count }
}
