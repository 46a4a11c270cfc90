import Bytes
import Reactor
import Testing

private let mib = 1 << 20
private func at(_ seconds: Double) -> Monotonic { Monotonic(nanoseconds: 1_000_000_000).adding(seconds: seconds) }

/// Wraps the mutating judge so `#expect` can call it.
private final class Judge {
    var backlog: OutboundBacklog
    init(cap: Int, hardCap: Int, drainSeconds: Double) { backlog = OutboundBacklog(cap: cap, hardCap: hardCap, drainSeconds: drainSeconds) }
    func isFallingBehind(queued: Int, now: Monotonic) -> Bool { backlog.isFallingBehind(queued: queued, now: now) }
    var windowStart: Monotonic? { backlog.windowStart }
}

/// The slow-consumer rule judges progress, never one message's size (issue 17: the echo of a
/// 16 MiB message was cut with 4008 although the client read at full speed).
@Suite struct OutboundBacklogTests {
    @Test func aBacklogFarOverTheCapThatKeepsShrinkingIsNeverFallingBehind() {
        let backlog = Judge(cap: mib, hardCap: 40 * mib, drainSeconds: 0.5)
        // A 16 MiB echo queued at once, drained slowly (256 KiB per 100 ms) across many windows.
        var queued = 16 * mib
        var t = 0.0
        while queued > 0 {
            #expect(!backlog.isFallingBehind(queued: queued, now: at(t)))
            queued -= mib / 4; t += 0.1
        }
        #expect(!backlog.isFallingBehind(queued: 0, now: at(t)))
        #expect(backlog.windowStart == nil)
    }

    @Test func aPeerThatDrainsNothingIsFallingBehindWhenTheWindowEnds() {
        let backlog = Judge(cap: mib, hardCap: 16 * mib, drainSeconds: 5)
        #expect(!backlog.isFallingBehind(queued: 2 * mib, now: at(0)))
        #expect(!backlog.isFallingBehind(queued: 2 * mib, now: at(4.9)))
        #expect(backlog.isFallingBehind(queued: 2 * mib, now: at(5)))
    }

    @Test func aReaderSlowerThanItsStreamIsFallingBehind() {
        let backlog = Judge(cap: mib, hardCap: 64 * mib, drainSeconds: 5)
        // 1 MiB/s queued, 256 KiB/s drained: the backlog grows across the window.
        #expect(!backlog.isFallingBehind(queued: mib + 1, now: at(0)))
        #expect(backlog.isFallingBehind(queued: mib + 1 + 5 * mib - 5 * mib / 4, now: at(5)))
    }

    @Test func aReaderThatShrinksTheBacklogGetsANewWindow() {
        let backlog = Judge(cap: mib, hardCap: 64 * mib, drainSeconds: 5)
        #expect(!backlog.isFallingBehind(queued: 8 * mib, now: at(0)))
        #expect(!backlog.isFallingBehind(queued: 7 * mib, now: at(5)))
        #expect(backlog.windowStart == at(5))
        // The next window must shrink it again.
        #expect(backlog.isFallingBehind(queued: 7 * mib, now: at(10)))
    }

    @Test func overTheHardCapIsFallingBehindAtOnce() {
        let backlog = Judge(cap: mib, hardCap: 4 * mib, drainSeconds: 5)
        #expect(backlog.isFallingBehind(queued: 4 * mib + 1, now: at(0)))
    }

    @Test func backUnderTheCapEndsTheWindow() {
        let backlog = Judge(cap: mib, hardCap: 4 * mib, drainSeconds: 5)
        #expect(!backlog.isFallingBehind(queued: 2 * mib, now: at(0)))
        #expect(!backlog.isFallingBehind(queued: mib, now: at(1)))
        #expect(backlog.windowStart == nil)
        #expect(!backlog.isFallingBehind(queued: 2 * mib, now: at(5.5)))
        #expect(backlog.windowStart == at(5.5))
    }
}
