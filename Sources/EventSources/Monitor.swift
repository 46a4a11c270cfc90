import Wire

/// A background source of producer messages (recorded feed, simulator, TT poller).
///
/// `run` is called on the monitor's own thread by `MonitorSupervisor`. It returns when `stopping`
/// is signalled (or, for a finite source, when it has nothing left to send) and throws when it
/// fails; the supervisor then reports `degraded` and calls `run` again after a backoff. A monitor
/// reports `running` (with `lastSuccess`) itself through `status` once it has done useful work,
/// and may report `degraded` for errors it recovers from without returning.
public protocol Monitor: AnyObject, Sendable {
    /// The source name: also the `source` given to `MessageSink.submit` and the cursor name.
    var name: String { get }
    func run(sink: any MessageSink, status: any MonitorStatusSink, stopping: StopSignal) throws
}
