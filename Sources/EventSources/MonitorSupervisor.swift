import Foundation
import Synchronization
import Wire

/// Runs each monitor on its own thread and keeps it alive: a monitor that throws is reported
/// `degraded` with its error and restarted after an exponential backoff (capped), so a failing
/// source never takes the server down. `stop()` signals every monitor and joins them within a bound.
public final class MonitorSupervisor: Sendable {
    private let monitors: [any Monitor]
    private let sink: any MessageSink
    private let recorder: StatusRecorder
    private let clock: any MonitorClock
    private let backoff: Backoff
    private let stopping = StopSignal()
    private let running = DispatchGroup()
    private let started = Mutex(false)

    /// The monitors named in `sources`, with the configured restart backoff cap.
    /// `ttCatalogSymbols`: TT instrumentId → symbol from the instrument catalog.
    public convenience init(config: MonitorsConfig, sources: [String], sink: any MessageSink, status: any MonitorStatusSink,
                            ttCatalogSymbols: [String: String] = [:]) throws(UnknownSourceError) {
        self.init(monitors: try config.makeMonitors(sources: sources, ttCatalogSymbols: ttCatalogSymbols),
                  sink: sink, status: status,
                  backoff: Backoff(initialMilliseconds: 500, capSeconds: Int64(max(1, config.restartBackoffCapSeconds))))
    }

    public init(monitors: [any Monitor], sink: any MessageSink, status: any MonitorStatusSink,
                clock: any MonitorClock = SystemClock(), backoff: Backoff = Backoff()) {
        self.monitors = monitors
        self.sink = sink
        self.recorder = StatusRecorder(forwardingTo: status)
        self.clock = clock
        self.backoff = backoff
    }

    /// The latest status of every monitor, in configuration order (always current, even when
    /// forwarding to the status sink was throttled).
    public var statuses: [MonitorStatus] {
        monitors.map { recorder.latest(for: $0.name) ?? MonitorStatus(name: $0.name, state: .stopped) }
    }

    /// Starts one thread per monitor. Calling it again does nothing.
    public func start() {
        let first = started.withLock { wasStarted in
            defer { wasStarted = true }
            return !wasStarted
        }
        guard first else { return }
        // Every configured monitor is on the board before `start` returns, so `/healthz` and the
        // first snapshot list all of them from the moment the server announces its port, not
        // only those whose thread happened to run first.
        for monitor in monitors { recorder.report(MonitorStatus(name: monitor.name, state: .starting)) }
        for monitor in monitors {
            running.enter()
            let thread = Thread { [self] in
                supervise(monitor)
                running.leave()
            }
            thread.name = "monitor-\(monitor.name)"
            thread.start()
        }
    }

    /// Signals every monitor to stop and waits up to `timeoutSeconds` for their threads to end.
    /// Returns false when one did not end in time (it is left to finish on its own).
    @discardableResult
    public func stop(timeoutSeconds: Double = 5) -> Bool {
        stopping.stop()
        guard started.withLock({ $0 }) else { return true }
        return running.wait(timeout: .now() + timeoutSeconds) == .success
    }

    private func supervise(_ monitor: any Monitor) {
        var failures = 0
        while !stopping.isStopped {
            recorder.report(MonitorStatus(name: monitor.name, state: .starting,
                                          lastSuccess: recorder.latest(for: monitor.name)?.lastSuccess))
            recorder.clearRunning(monitor.name)
            do {
                try monitor.run(sink: sink, status: recorder, stopping: stopping)
                break   // returned: stopped, or a finite source has finished
            } catch {
                if stopping.isStopped { break }
                // A run that got as far as `running` earned a fresh start of the backoff.
                failures = recorder.reachedRunning(monitor.name) ? 1 : failures + 1
                recorder.report(MonitorStatus(name: monitor.name, state: .degraded,
                                              lastError: String(describing: error),
                                              lastSuccess: recorder.latest(for: monitor.name)?.lastSuccess))
                if !clock.sleep(nanoseconds: backoff.delay(attempt: failures), stopping: stopping) { break }
            }
        }
        let last = recorder.latest(for: monitor.name)
        recorder.report(MonitorStatus(name: monitor.name, state: .stopped, lastError: last?.lastError,
                                      lastSuccess: last?.lastSuccess))
    }
}

/// Remembers each monitor's latest status (for `statuses` and restart decisions) and forwards
/// changes: a new state or error at once, a mere `lastSuccess` advance at most once a second, so a
/// replay acking several batches a second does not flood `status` subscribers.
final class StatusRecorder: MonitorStatusSink {
    private struct Entry {
        var status: MonitorStatus
        var forwarded: MonitorStatus?
        var reachedRunning = false
    }
    static let successInterval: Int64 = 1_000_000_000
    private let downstream: any MonitorStatusSink
    private let entries = Mutex<[String: Entry]>([:])

    init(forwardingTo downstream: any MonitorStatusSink) { self.downstream = downstream }

    func report(_ status: MonitorStatus) {
        let forward = entries.withLock { entries -> Bool in
            var entry = entries[status.name] ?? Entry(status: status)
            entry.status = status
            if status.state == .running { entry.reachedRunning = true }
            let previous = entry.forwarded
            let changed = previous == nil || previous?.state != status.state || previous?.lastError != status.lastError
                || (status.lastSuccess ?? 0) - (previous?.lastSuccess ?? 0) >= StatusRecorder.successInterval
            if changed { entry.forwarded = status }
            entries[status.name] = entry
            return changed
        }
        if forward { downstream.report(status) }
    }

    func latest(for name: String) -> MonitorStatus? { entries.withLock { $0[name]?.status } }
    func reachedRunning(_ name: String) -> Bool { entries.withLock { $0[name]?.reachedRunning ?? false } }
    func clearRunning(_ name: String) { entries.withLock { $0[name]?.reachedRunning = false } }
}
