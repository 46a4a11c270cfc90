import Bytes
import Synchronization
import Wire

/// The loop every TT source runs. Poll; on success report what the poll says and wait
/// `pollSeconds`; on a transient error report `degraded` and wait `Retry-After` (capped) or the
/// jittered exponential backoff counted over consecutive failures; return when asked to stop;
/// throw what only a configuration change can fix (the supervisor restarts the source).
///
/// - `poll` does one cycle and returns the `running` status to report (its `lastSuccess` is set
///   here).
/// - `degraded` builds the status for a failure, given the error and the last success.
func runTTPollLoop(config: TTConfig, clock: any MonitorClock, jitter: borrowing Mutex<SeededRandom>,
                   status: any MonitorStatusSink, stopping: StopSignal,
                   poll: () throws(TTError) -> MonitorStatus,
                   degraded: (TTError, _ lastSuccess: Int64?) -> MonitorStatus) throws(TTError) {
    let backoff = Backoff(initialMilliseconds: 500, capSeconds: Int64(max(1, config.backoffCapSeconds)), jitter: true)
    var failures = 0
    var lastSuccess: Int64?
    while !stopping.isStopped {
        let delay: Int64
        do throws(TTError) {
            var report = try poll()
            failures = 0
            lastSuccess = clock.now()
            report.lastSuccess = lastSuccess
            status.report(report)
            delay = Int64(max(1, config.pollSeconds)) * 1_000_000_000
        } catch .stopped {
            return
        } catch {
            guard error.isTransient else { throw error }
            failures += 1
            status.report(degraded(error, lastSuccess))
            delay = error.retryAfterSeconds.map { $0 * 1_000_000_000 }
                ?? jitter.withLock { backoff.delay(attempt: failures, random: &$0) }
        }
        if !clock.sleep(nanoseconds: delay, stopping: stopping) { return }
    }
}
