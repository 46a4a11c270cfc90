import Testing
@testable import Server

@Suite struct AddressRateLimiterTests {
    @Test func aBurstThenTheRatePerAddressAndOtherAddressesAreUntouched() {
        let limiter = AddressRateLimiter(perSecond: 2, burst: 3)
        let start: Int64 = 1_000_000_000
        var admitted = 0
        for _ in 0..<3 where limiter.admit("10.0.0.7", now: start) { admitted += 1 }
        #expect(admitted == 3)
        let overBurst = limiter.admit("10.0.0.7", now: start)
        let otherHost = limiter.admit("10.0.0.8", now: start)
        let tooSoon = limiter.admit("10.0.0.7", now: start + 400_000_000)
        let refilled = limiter.admit("10.0.0.7", now: start + 500_000_000)
        let spentAgain = limiter.admit("10.0.0.7", now: start + 500_000_000)
        #expect(overBurst == false)
        #expect(otherHost, "another host has its own bucket")
        #expect(tooSoon == false, "0.8 of a token after 0.4 s")
        #expect(refilled, "one token after 0.5 s at 2/s")
        #expect(spentAgain == false)
        // Never more than the burst, however long the pause.
        let later = start + 3_600_000_000_000
        admitted = 0
        for _ in 0..<3 where limiter.admit("10.0.0.7", now: later) { admitted += 1 }
        #expect(admitted == 3)
        let pastBurst = limiter.admit("10.0.0.7", now: later)
        #expect(pastBurst == false)
    }

    @Test func refilledAddressesAreForgotten() {
        let limiter = AddressRateLimiter(perSecond: 10, burst: 10)
        for host in 0..<50 { _ = limiter.admit("10.0.1.\(host)", now: 0) }
        _ = limiter.admit("10.0.2.1", now: 1_500_000_000)
        #expect(limiter.trackedAddresses == 51)
        limiter.forgetRefilled(now: 1_500_000_000)
        #expect(limiter.trackedAddresses == 1, "only the host seen within a refill time is kept")
    }
}
