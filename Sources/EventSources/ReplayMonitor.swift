import Bytes
import Foundation
import Ledger
import Synchronization
import Wire

/// Replays a recorded feed (`replay` source) at the recorded pace × `speed`, or as fast as the
/// sink accepts with `speed: 0`. With `loop`, the file starts over forever; pass n ≥ 1 suffixes
/// execIds (fills, busts, corrections) with `~L<n>` and skips SOD lines, so nothing repeats.
/// The cursor `"<loop>:<line>"` is stored with each batch, so a restart resumes after the last
/// committed line.
public final class ReplayMonitor: Monitor {
    public let name: String
    private let config: ReplayConfig
    private let clock: any MonitorClock
    private let batchLimit: Int
    private let submitTimeoutSeconds: Int
    private let counts = Mutex(ReplayCounts())

    public struct ReplayCounts: Sendable, Equatable {
        public var submissions = SubmissionCounts()
        /// Bad lines seen by the latest run (reported with their line numbers, skipped).
        public var badLines = 0
        public var loopsCompleted = 0
    }

    public init(config: ReplayConfig, name: String = "replay", clock: any MonitorClock = SystemClock(),
                batchLimit: Int = 500, submitTimeoutSeconds: Int = 30) {
        self.name = name
        self.config = config
        self.clock = clock
        self.batchLimit = max(1, batchLimit)
        self.submitTimeoutSeconds = submitTimeoutSeconds
    }

    public var replayCounts: ReplayCounts { counts.withLock { $0 } }

    public func run(sink: any MessageSink, status: any MonitorStatusSink, stopping: StopSignal) throws {
        guard let data = FileManager.default.contents(atPath: config.file) else {
            throw ReplayError(message: "cannot read feed file \(config.file)")
        }
        let feed = RecordedFeed(text: String(decoding: data, as: UTF8.self))
        counts.withLock { $0.badLines = feed.badLines.count }
        let badSummary = feed.badLines.last.map { "\(feed.badLines.count) bad line(s) skipped, last: \($0)" }
        guard !feed.lines.isEmpty else { throw ReplayError(message: "\(config.file) holds no valid message" + (badSummary.map { " (\($0))" } ?? "")) }

        var position = ReplayCursor(loop: 0, line: 0)
        if let stored = sink.cursor(named: name) {
            guard let cursor = ReplayCursor(stored) else { throw ReplayError(message: "stored cursor '\(stored)' is not <loop>:<line>") }
            position = cursor
        }
        status.report(MonitorStatus(name: name, state: .running, lastError: badSummary))
        var storageFailures = 0

        while !stopping.isStopped {
            var index = feed.lines.firstIndex { $0.number > position.line } ?? feed.lines.endIndex
            if index < feed.lines.endIndex {
                // The pace is anchored at the first line of this stretch, so a resume does not wait.
                let anchorAt = feed.lines[index].at
                let anchorWall = clock.now()
                while index < feed.lines.endIndex {
                    if config.speed > 0 {
                        let wait = dueTime(of: feed.lines[index].at, anchorAt: anchorAt, anchorWall: anchorWall) - clock.now()
                        if wait > 0, !clock.sleep(nanoseconds: wait, stopping: stopping) { return }
                    }
                    if stopping.isStopped { return }
                    // Everything already due goes in one batch.
                    let now = clock.now()
                    var batch: [ProducerMessage] = []
                    let first = index
                    var last = index
                    while index < feed.lines.endIndex, batch.count < batchLimit,
                          dueTime(of: feed.lines[index].at, anchorAt: anchorAt, anchorWall: anchorWall) <= now {
                        if let message = rewrite(feed.lines[index], loop: position.loop) { batch.append(message) }
                        last = index
                        index += 1
                    }
                    let before = position
                    position.line = feed.lines[last].number
                    if batch.isEmpty { continue }   // only skipped SOD lines: nothing to store yet
                    let results = try submitAndWait(batch, to: sink, source: name,
                                                    cursor: (name, position.description), timeoutSeconds: submitTimeoutSeconds)
                    if let failure = results.storageFailure {
                        // Not stored, cursor included: the same lines go again after a pause,
                        // and the monitor says it is not keeping up rather than skip them.
                        storageFailures += 1
                        status.report(MonitorStatus(name: name, state: .degraded,
                                                    lastError: "lines \(feed.lines[first].number)–\(feed.lines[last].number) not stored, retrying: \(failure)"))
                        let pause = min(Int64(1) << min(storageFailures, 5), 30) * 100_000_000
                        if !clock.sleep(nanoseconds: pause, stopping: stopping) { return }
                        position = before
                        index = first
                        continue
                    }
                    storageFailures = 0
                    let rejection = counts.withLock { counts -> String? in
                        counts.submissions.add(results, refs: batch.map(\.ref))
                        return counts.submissions.lastRejection
                    }
                    status.report(MonitorStatus(name: name, state: .running,
                                                lastError: rejection.map { "rejected \($0)" } ?? badSummary,
                                                lastSuccess: clock.now()))
                }
            }
            counts.withLock { $0.loopsCompleted += 1 }
            guard config.loop else { return }
            position = ReplayCursor(loop: position.loop + 1, line: 0)
            // A short pause between passes, as between two lines.
            if !clock.sleep(nanoseconds: config.speed > 0 ? Int64(1e9 / config.speed) : 0, stopping: stopping) { return }
        }
    }

    private func dueTime(of at: Int64, anchorAt: Int64, anchorWall: Int64) -> Int64 {
        guard config.speed > 0 else { return Int64.min }
        return anchorWall + Int64(Double(at - anchorAt) / config.speed)
    }

    /// The message as sent on pass `loop`: execIds suffixed after the first pass, SOD only once,
    /// times left to the server unless `keepTimes`.
    func rewrite(_ line: RecordedFeed.Line, loop: Int) -> ProducerMessage? {
        let suffix = loop == 0 ? "" : "~L\(loop)"
        let recorded = isoString(line.at)
        switch line.message {
        case .fill(let execId, let account, let instrument, let side, let qty, let price, let time, let orderId):
            return .fill(execId: execId + suffix, account: account, instrument: instrument, side: side, qty: qty,
                         price: price, time: config.keepTimes ? (time ?? recorded) : nil, orderId: orderId.map { $0 + suffix })
        case .bust(let execId):
            return .bust(execId: execId + suffix)
        case .correct(let execId, let qty, let price):
            return .correct(execId: execId + suffix, qty: qty, price: price)
        case .mark(let instrument, let price, let time):
            return .mark(instrument: instrument, price: price, time: config.keepTimes ? (time ?? recorded) : nil)
        case .sod:
            return loop == 0 ? line.message : nil
        case .order(var order):
            // Each pass places its own orders, like its own fills.
            order.orderId += suffix
            order.time = config.keepTimes ? (order.time ?? recorded) : nil
            return .order(order)
        }
    }
}

public struct ReplayError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
