import Synchronization
import Wire

/// Latest status of every monitor; written by monitor threads, read by the loop and the pipeline.
public final class StatusBoard: MonitorStatusSink, Sendable {
    private let statuses = Mutex<[String: MonitorStatus]>([:])
    private let onChange: @Sendable (MonitorStatus) -> Void

    public init(onChange: @escaping @Sendable (MonitorStatus) -> Void = { _ in }) { self.onChange = onChange }

    public func report(_ status: MonitorStatus) {
        let changed = statuses.withLock { all -> Bool in
            let previous = all[status.name]
            all[status.name] = status
            return previous?.state != status.state || previous?.lastError != status.lastError || previous?.recon != status.recon
        }
        if changed { onChange(status) }
    }

    public var all: [MonitorStatus] { statuses.withLock { $0.values.sorted { $0.name < $1.name } } }
}
