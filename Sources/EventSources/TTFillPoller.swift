import Bytes
import Synchronization
import Wire

/// Polls TT's REST ledger for fills (`tt` source): every `pollSeconds`, asks for
/// `(cursor, now]` in pages (next `minTimestamp` = last `timeStamp` + 1, until an empty page:
/// `lastPage` is not trusted), halves the window on 408, and submits each page with the cursor
/// (the page's last `timeStamp`) in the same transaction. Network errors, 5xx, 429 and malformed
/// replies are retried with jittered exponential backoff (or `Retry-After`) while the monitor is
/// `degraded`; configuration errors are thrown to the supervisor.
public final class TTFillPoller: Monitor {
    public let name: String
    private let config: TTConfig
    private let transport: any OutboundHTTP
    private let clock: any MonitorClock
    private let catalogSymbols: [String: String]
    private let rateLimit: TokenBucket
    public let tokens: TTTokenManager
    private let jitter: Mutex<SeededRandom>
    private let counts = Mutex(SubmissionCounts())
    private let submitTimeoutSeconds: Int

    /// The smallest window a 408 may narrow to before the poller gives up on that window for now.
    static let minimumWindow: Int64 = 1_000_000   // 1 ms

    public struct PollSummary: Sendable, Equatable {
        public var requests = 0
        public var pages = 0
        public var fillsSubmitted = 0
        public var skipped: [String] = []
        /// Window halvings after 408s.
        public var narrowed = 0
        public var cursor: Int64?
    }

    /// `catalogSymbols`: TT instrumentId → symbol from the instrument catalog (`ttInstrumentId`);
    /// `config.instruments` entries win over it.
    /// `rateLimit` and `tokens` may be shared with the orders monitor (one plan limit, one token).
    public init(config: TTConfig, name: String = "tt", transport: any OutboundHTTP = URLSessionTransport(),
                clock: any MonitorClock = SystemClock(), catalogSymbols: [String: String] = [:],
                rateLimit: TokenBucket? = nil, tokens: TTTokenManager? = nil,
                jitterSeed: UInt64 = UInt64.random(in: 0...UInt64.max), submitTimeoutSeconds: Int = 30) {
        self.name = name
        self.config = config
        self.transport = transport
        self.clock = clock
        self.catalogSymbols = catalogSymbols
        let bucket = rateLimit ?? TokenBucket(ratePerSecond: config.requestsPerSecond, burst: 1, clock: clock)
        self.rateLimit = bucket
        self.tokens = tokens ?? TTTokenManager(config: config, transport: transport, clock: clock, rateLimit: bucket)
        self.jitter = Mutex(SeededRandom(seed: jitterSeed))
        self.submitTimeoutSeconds = submitTimeoutSeconds
    }

    public var submissionCounts: SubmissionCounts { counts.withLock { $0 } }

    public func run(sink: any MessageSink, status: any MonitorStatusSink, stopping: StopSignal) throws {
        try runTTPollLoop(config: config, clock: clock, jitter: jitter, status: status, stopping: stopping, poll: { () throws(TTError) in
            let summary = try pollOnce(sink: sink, stopping: stopping)
            let problem = summary.skipped.last.map { "skipped \(summary.skipped.count) fill(s): \($0)" }
                ?? counts.withLock { $0.lastRejection }.map { "rejected \($0)" }
            return MonitorStatus(name: name, state: .running, lastError: problem)
        }, degraded: { error, lastSuccess in
            MonitorStatus(name: name, state: .degraded, lastError: error.description, lastSuccess: lastSuccess)
        })
    }

    /// One poll: every page from the cursor to now. Public so tests and `ladderwire` tools can
    /// drive a single cycle.
    public func pollOnce(sink: any MessageSink, stopping: StopSignal) throws(TTError) -> PollSummary {
        var summary = PollSummary()
        let end = clock.now()
        var stored: Int64?
        if let text = sink.cursor(named: name) {
            guard let value = Int64(text) else { throw .notConfigured("stored cursor '\(text)' is not a TT timeStamp") }
            stored = value
        }
        summary.cursor = stored
        guard (stored ?? 0) < end else { return summary }   // a cursor at or past now: nothing to ask yet
        var low = (stored ?? (end - Int64(config.lookbackSeconds) * 1_000_000_000)) + 1
        var window = end - low
        while low <= end {
            if stopping.isStopped { throw .stopped }
            let high = min(low + window, end)
            let reply = try tokens.authorizedGet("ttledger/\(config.environment)/fills", query: "minTimestamp=\(low)&maxTimestamp=\(high)",
                                                 what: "fills", transport: transport, rateLimit: rateLimit, stopping: stopping)
            summary.requests += 1
            if reply.status == 408 {
                guard window > TTFillPoller.minimumWindow else {
                    throw .status(code: 408, retryAfterSeconds: nil, detail: "still timing out with a 1 ms window")
                }
                window /= 2
                summary.narrowed += 1
                continue
            }
            guard (200..<300).contains(reply.status) else {
                throw .status(code: reply.status, retryAfterSeconds: retryAfter(reply), detail: String(reply.body.prefix(200)))
            }
            let page = try TTFillMapping.page(from: reply.body, config: config, catalogSymbols: catalogSymbols)
            summary.pages += 1
            summary.skipped += page.skipped
            // TT answered for (low, high]: a timeStamp outside it is not trusted to move the cursor
            // (a timeStamp of Int64.max would otherwise overflow the next window).
            let outside = page.fills.filter { $0.timeStamp < low || $0.timeStamp > high }
            summary.skipped += outside.map { "fill \($0.message.ref) at timeStamp \($0.timeStamp), outside the window asked for" }
            guard let last = page.lastTimeStamp.map({ min($0, high) }), last >= low else {
                low = high + 1   // this window is exhausted
                continue
            }
            var seen = Set<String>()
            // Each TT record once (a fill and its bust share a ref, not a record).
            let messages = page.fills.filter { $0.timeStamp >= low && $0.timeStamp <= high }
                .filter { seen.insert($0.key).inserted }.map(\.message)
            let results: [SubmitResult]
            do {
                results = try submitAndWait(messages, to: sink, source: name, cursor: (name, String(last)),
                                            timeoutSeconds: submitTimeoutSeconds)
            } catch {
                throw .network(error.description)
            }
            // Not stored: the cursor did not move either; ask for the same page again later.
            if let failure = results.storageFailure { throw .storage(failure) }
            counts.withLock { $0.add(results, refs: messages.map(\.ref)) }
            summary.fillsSubmitted += messages.count
            summary.cursor = last
            low = last + 1
        }
        return summary
    }
}
