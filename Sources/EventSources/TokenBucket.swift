import Synchronization

/// Requests per second toward TT (plans allow 3 to 25): a bucket of `burst` tokens refilled at
/// `ratePerSecond`; `acquire` waits for a token. Counted in nanoseconds of credit, so no floats.
public final class TokenBucket: Sendable {
    private struct State { var credit: Int64; var updatedAt: Int64 }
    private let interval: Int64          // nanoseconds per token
    private let capacity: Int64          // in nanoseconds of credit
    private let clock: any MonitorClock
    private let state: Mutex<State>

    public init(ratePerSecond: Int, burst: Int = 1, clock: any MonitorClock) {
        interval = 1_000_000_000 / Int64(max(1, ratePerSecond))
        capacity = interval * Int64(max(1, burst))
        self.clock = clock
        state = Mutex(State(credit: capacity, updatedAt: clock.now()))
    }

    /// Takes one token, sleeping until one is available; false when stopped while waiting.
    public func acquire(stopping: StopSignal) -> Bool {
        while true {
            let wait: Int64 = state.withLock { state in
                let now = clock.now()
                state.credit = min(capacity, state.credit + max(0, now - state.updatedAt))
                state.updatedAt = now
                if state.credit >= interval { state.credit -= interval; return 0 }
                return interval - state.credit
            }
            if wait == 0 { return true }
            if !clock.sleep(nanoseconds: wait, stopping: stopping) { return false }
        }
    }
}
