import Glibc

/// Progress of long work (recovery, backup, export, db check, record) as plain lines:
/// `recovery: 1200000 of 2000000 events (60%), 850000 events/s`. Silent for work that finishes
/// within `quietSeconds` (one second unless `LADDERWIRE_PROGRESS_AFTER_SECONDS` says otherwise,
/// which is how tests see the lines without timing anything); after that a line at most once a
/// second and a final line with the overall rate. One thread uses one meter.
public final class ProgressMeter {
    public let label: String
    public let unit: String
    public var total: Int?
    let write: (String) -> Void
    let quietNanos: Int64
    let started = Monotonic.now()
    var lastLine: Int64 = 0
    public private(set) var linesWritten = 0

    /// The quiet period from `LADDERWIRE_PROGRESS_AFTER_SECONDS` (default 1 s).
    public static var defaultQuietSeconds: Double {
        guard let raw = getenv("LADDERWIRE_PROGRESS_AFTER_SECONDS"), let value = Double(String(cString: raw)), value >= 0 else { return 1 }
        return value
    }

    public init(_ label: String, unit: String, total: Int? = nil, quietSeconds: Double = ProgressMeter.defaultQuietSeconds,
                write: @escaping (String) -> Void) {
        self.label = label
        self.unit = unit
        self.total = total
        self.quietNanos = Int64(quietSeconds * 1e9)
        self.write = write
    }

    var elapsedNanos: Int64 { Monotonic.now().nanoseconds - started.nanoseconds }

    /// Called as work advances; writes a line when the quiet period is over and a second passed.
    public func update(_ done: Int) {
        let elapsed = elapsedNanos
        guard elapsed >= quietNanos, linesWritten == 0 || elapsed - lastLine >= 1_000_000_000 else { return }
        lastLine = elapsed
        emit(done, elapsed: elapsed, final: false)
    }

    /// The last line (only when the work outlasted the quiet period).
    public func finish(_ done: Int) {
        let elapsed = elapsedNanos
        guard elapsed >= quietNanos || linesWritten > 0 else { return }
        emit(done, elapsed: elapsed, final: true)
    }

    func emit(_ done: Int, elapsed: Int64, final: Bool) {
        let seconds = max(Double(elapsed) / 1e9, 1e-9)
        var line = "\(label): \(done)"
        if let total, total > 0 { line += " of \(total) \(unit) (\(min(100, done * 100 / total))%)" } else { line += " \(unit)" }
        line += ", \(Int((Double(done) / seconds).rounded())) \(unit)/s"
        if final { line += ", done in \(formatSeconds(seconds)) s" }
        linesWritten += 1
        write(line)
    }

    func formatSeconds(_ seconds: Double) -> String {
        let millis = Int((seconds * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
