/// Health of one background monitor, shown in `/healthz`, `/metrics` and `status` messages.
public struct MonitorStatus: Sendable, Equatable {
    public enum State: String, Sendable { case starting, running, degraded, stopped }
    public var name: String
    public var state: State
    public var lastError: String?
    /// Nanoseconds since the Unix epoch of the last successful poll or message.
    public var lastSuccess: Int64?
    public init(name: String, state: State, lastError: String? = nil, lastSuccess: Int64? = nil) {
        self.name = name; self.state = state; self.lastError = lastError; self.lastSuccess = lastSuccess
    }
}

public protocol MonitorStatusSink: Sendable {
    func report(_ status: MonitorStatus)
}
