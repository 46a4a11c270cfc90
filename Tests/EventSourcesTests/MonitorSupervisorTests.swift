import TestSupport
import Bytes
import Foundation
import Synchronization
import Testing
import Wire
@testable import EventSources

/// Fails `failures` times, then reports running and waits for the stop.
final class FlakyMonitor: Monitor {
    struct Boom: Error, CustomStringConvertible { var description: String { "connection refused" } }
    let name = "flaky"
    let failures: Int
    private let runs = Atomic<Int>(0)
    init(failures: Int) { self.failures = failures }
    var runCount: Int { runs.load(ordering: .relaxed) }

    func run(sink: any MessageSink, status: any MonitorStatusSink, stopping: StopSignal) throws {
        let run = runs.add(1, ordering: .relaxed).newValue
        if run <= failures { throw Boom() }
        status.report(MonitorStatus(name: name, state: .running, lastSuccess: 1))
        while stopping.sleep(nanoseconds: 1_000_000_000) {}
    }
}

/// Returns at once: a finite source that has nothing more to send.
final class FinishedMonitor: Monitor {
    let name = "finished"
    let runs = Atomic<Int>(0)
    func run(sink: any MessageSink, status: any MonitorStatusSink, stopping: StopSignal) throws {
        runs.add(1, ordering: .relaxed)
    }
}

/// Ignores the stop signal until released.
final class StuckMonitor: Monitor {
    let name = "stuck"
    let release = DispatchSemaphore(value: 0)
    let entered = DispatchSemaphore(value: 0)
    func run(sink: any MessageSink, status: any MonitorStatusSink, stopping: StopSignal) throws {
        entered.signal()
        release.wait()
    }
}

@Suite struct MonitorSupervisorTests {
    /// Waits (really) until `condition` holds, up to a generous bound; the supervisor's threads are real.
    func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<1000 {
            if condition() { return true }
            usleep(5000)
        }
        return condition()
    }

    @Test func restartsAFailingMonitorWithBackoffAndReportsEachState() {
        let monitor = FlakyMonitor(failures: 3)
        let status = StatusLog()
        let clock = ManualClock()
        let supervisor = MonitorSupervisor(monitors: [monitor], sink: RecordingSink(), status: status, clock: clock,
                                           backoff: Backoff(initialMilliseconds: 500, capSeconds: 30))
        supervisor.start()
        #expect(eventually { supervisor.statuses.first?.state == .running })
        #expect(monitor.runCount == 4)
        #expect(clock.sleeps == [500 * millisecond, 1 * second, 2 * second])
        #expect(status.states(of: "flaky") == [.starting, .degraded, .starting, .degraded, .starting, .degraded, .starting, .running])
        #expect(status.all[1].lastError == "connection refused")
        #expect(supervisor.stop(timeoutSeconds: 5))
        #expect(supervisor.statuses.first?.state == .stopped)
    }

    @Test func everyMonitorIsOnTheBoardWhenStartReturns() {
        let stuck = StuckMonitor()
        let status = StatusLog()
        let supervisor = MonitorSupervisor(monitors: [stuck, FlakyMonitor(failures: 0)], sink: RecordingSink(),
                                           status: status, clock: ManualClock())
        supervisor.start()
        // No waiting: a board read straight after start (as /healthz is, once the port is
        // announced) must already list both, whichever thread has run.
        #expect(status.states(of: "stuck").first == .starting)
        #expect(status.states(of: "flaky").first == .starting)
        stuck.release.signal()
        #expect(supervisor.stop(timeoutSeconds: 5))
    }

    @Test func aFinishedMonitorIsNotRestarted() {
        let monitor = FinishedMonitor()
        let status = StatusLog()
        let supervisor = MonitorSupervisor(monitors: [monitor], sink: RecordingSink(), status: status, clock: ManualClock())
        supervisor.start()
        #expect(eventually { status.states(of: "finished").last == .stopped })
        #expect(monitor.runs.load(ordering: .relaxed) == 1)
        #expect(supervisor.stop())
    }

    @Test func stopGivesUpOnAMonitorThatDoesNotEndInTime() {
        let stuck = StuckMonitor()
        let supervisor = MonitorSupervisor(monitors: [stuck, FlakyMonitor(failures: 0)], sink: RecordingSink(),
                                           status: StatusLog(), clock: ManualClock())
        supervisor.start()
        stuck.entered.wait()
        #expect(supervisor.stop(timeoutSeconds: 0.05) == false)
        stuck.release.signal()
        #expect(supervisor.stop(timeoutSeconds: 5))
    }

    @Test func stopWithoutStartReturnsAtOnce() {
        let supervisor = MonitorSupervisor(monitors: [FlakyMonitor(failures: 0)], sink: RecordingSink(), status: StatusLog())
        #expect(supervisor.stop(timeoutSeconds: 0))
        #expect(supervisor.statuses == [MonitorStatus(name: "flaky", state: .stopped)])
    }

    @Test func backoffDoublesUpToItsCapAndJitterStaysInTheUpperHalf() {
        let backoff = Backoff(initialMilliseconds: 500, capSeconds: 30)
        #expect((1...8).map { backoff.delay(attempt: $0) } ==
                [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000].map { Int64($0) * millisecond })
        var random = SeededRandom(seed: 9)
        let jittered = Backoff(initialMilliseconds: 500, capSeconds: 30, jitter: true)
        for attempt in 1...10 {
            let full = backoff.delay(attempt: attempt)
            let delay = jittered.delay(attempt: attempt, random: &random)
            #expect(delay >= full / 2 && delay <= full)
        }
    }

    @Test func stopWakesASleepingMonitorEarly() {
        let stopping = StopSignal()
        DispatchQueue.global().async { stopping.stop() }
        // Would sleep an hour if the stop did not wake it.
        #expect(stopping.sleep(nanoseconds: 3600 * second) == false)
        #expect(stopping.isStopped)
    }

    @Test func buildsTheConfiguredMonitors() throws {
        let monitors = try MonitorsConfig().makeMonitors(sources: ["replay", "sim", "tt"])
        #expect(monitors.map(\.name) == ["replay", "sim", "tt"])
        #expect(throws: UnknownSourceError(name: "bloomberg")) { try MonitorsConfig().makeMonitors(sources: ["bloomberg"]) }
    }
}

@Suite struct StatusForwardingTests {
    @Test func changesAreForwardedAndSuccessOnlyOnceASecond() {
        let log = StatusLog()
        let recorder = StatusRecorder(forwardingTo: log)
        recorder.report(MonitorStatus(name: "replay", state: .running, lastSuccess: 1 * second))
        recorder.report(MonitorStatus(name: "replay", state: .running, lastSuccess: 1 * second + 400 * millisecond))
        recorder.report(MonitorStatus(name: "replay", state: .running, lastSuccess: 1 * second + 900 * millisecond))
        recorder.report(MonitorStatus(name: "replay", state: .running, lastSuccess: 2 * second + 100 * millisecond))
        recorder.report(MonitorStatus(name: "replay", state: .running, lastError: "rejected E1", lastSuccess: 2 * second + 200 * millisecond))
        recorder.report(MonitorStatus(name: "replay", state: .degraded, lastError: "rejected E1", lastSuccess: 2 * second + 200 * millisecond))
        #expect(log.all.map(\.lastSuccess) == [1 * second, 2 * second + 100 * millisecond, 2 * second + 200 * millisecond, 2 * second + 200 * millisecond])
        #expect(log.all.map(\.state) == [.running, .running, .running, .degraded])
        // The recorder itself always has the latest.
        #expect(recorder.latest(for: "replay")?.state == .degraded)
    }
}

@Suite struct SupervisedReplayTests {
    @Test func theShippedSampleDayReplaysUnderTheSupervisorAndStopsCleanly() throws {
        var config = MonitorsConfig()
        config.replay.file = "\(repositoryRoot)/tools/feeds/sample-day.ndjson"
        config.replay.speed = 0
        let enough = DispatchSemaphore(value: 0)
        // 11,000+ lines in batches of 500: 30 submissions run into the second pass.
        let sink = RecordingSink(onSubmit: { count in if count == 30 { enough.signal() } })
        let status = StatusLog()
        let supervisor = try MonitorSupervisor(config: config, sources: ["replay"], sink: sink, status: status)
        supervisor.start()
        #expect(enough.wait(timeout: .now() + 60) == .success)
        #expect(supervisor.stop(timeoutSeconds: 10))
        #expect(sink.duplicateCount == 0)
        #expect(sink.results.allSatisfy { if case .ack = $0 { return true }; return false })
        #expect(sink.fills.contains { $0.ref.hasSuffix("~L1") })
        #expect(status.states(of: "replay").first == .starting)
        #expect(status.states(of: "replay").last == .stopped)
        #expect(!status.states(of: "replay").contains(.degraded))
        #expect(throws: UnknownSourceError.self) {
            try MonitorSupervisor(config: config, sources: ["replay", "bloomberg"], sink: sink, status: status)
        }
    }
}
