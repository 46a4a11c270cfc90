/// Counters kept on the loop thread for /metrics.
final class ServerMetrics {
    var httpRequests = 0
    var httpErrors = 0
    var protocolErrors = 0
    var slowConsumerCloses = 0
    var authFailures = 0
    var producerMessages = 0
    var webSocketsOpened = 0
    /// Event-to-push latency: commit of an event → frames queued on the loop.
    var push = LatencyHistogram()
    /// Fan-out time: `Hub.publish` of one committed batch to every subscriber's queue.
    var fanOut = LatencyHistogram()
    /// Ack latency: a producer message handed to the pipeline → its reply queued on the producer's
    /// socket (validation, ledger, commit and the hops between the threads), per message.
    var ack = LatencyHistogram()
    /// Requests and connections refused by the hardening limits, by reason (`host`,
    /// `header_timeout`, `handshakes`, `body_budget`).
    var refused: [String: Int] = [:]

    func recordPush(micros: Int) { push.record(micros: micros) }
}

/// A latency histogram in microsecond buckets, exported in seconds (`_bucket`, `_sum`, `_count`).
struct LatencyHistogram {
    /// Upper bounds in microseconds; the last bucket is +Inf.
    static let boundsMicros: [Int] = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000]
    var buckets = [Int](repeating: 0, count: LatencyHistogram.boundsMicros.count + 1)
    var sumMicros = 0

    mutating func record(micros: Int, count: Int = 1) {
        let index = Self.boundsMicros.firstIndex { micros <= $0 } ?? Self.boundsMicros.count
        buckets[index] += count
        sumMicros += micros * count
    }
}
