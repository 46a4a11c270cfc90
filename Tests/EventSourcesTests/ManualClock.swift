@testable import EventSources
import Synchronization

/// A clock that never sleeps: `sleep` records the request and moves time forward at once, so
/// pacing and backoff are checked exactly and tests run instantly. `afterSleep` lets a test act
/// (e.g. stop the monitor) after a given number of sleeps.
final class ManualClock: MonitorClock {
    private struct State { var now: Int64; var sleeps: [Int64] = [] }
    private let state: Mutex<State>
    private let afterSleep: @Sendable (_ count: Int, _ nanoseconds: Int64) -> Void

    init(start: Int64 = 1_764_000_000_000_000_000,
         afterSleep: @escaping @Sendable (_ count: Int, _ nanoseconds: Int64) -> Void = { _, _ in }) {
        state = Mutex(State(now: start))
        self.afterSleep = afterSleep
    }

    func now() -> Int64 { state.withLock { $0.now } }

    func advance(by nanoseconds: Int64) { state.withLock { $0.now += nanoseconds } }

    func sleep(nanoseconds: Int64, stopping: StopSignal) -> Bool {
        if stopping.isStopped { return false }
        let count = state.withLock { state -> Int in
            state.now += max(0, nanoseconds)
            state.sleeps.append(nanoseconds)
            return state.sleeps.count
        }
        afterSleep(count, nanoseconds)
        return !stopping.isStopped
    }

    var sleeps: [Int64] { state.withLock { $0.sleeps } }
}

let second: Int64 = 1_000_000_000
let millisecond: Int64 = 1_000_000
