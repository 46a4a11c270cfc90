/// Counters kept on the loop thread for /metrics.
final class ServerMetrics {
    var httpRequests = 0
    var httpErrors = 0
    var protocolErrors = 0
    var slowConsumerCloses = 0
    var authFailures = 0
    var producerMessages = 0
    var webSocketsOpened = 0
    /// Requests and connections refused by the hardening limits, by reason (`host`,
    /// `header_timeout`, `handshakes`, `body_budget`).
    var refused: [String: Int] = [:]
    /// Event-to-push latency: commit of an event → frames queued on the loop, microsecond buckets.
    static let pushBucketsMicros: [Int] = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000]
    var pushBuckets = [Int](repeating: 0, count: ServerMetrics.pushBucketsMicros.count + 1)
    var pushMicrosTotal = 0
    var pushCount = 0

    func recordPush(micros: Int) {
        let index = Self.pushBucketsMicros.firstIndex { micros <= $0 } ?? Self.pushBucketsMicros.count
        pushBuckets[index] += 1
        pushMicrosTotal += micros
        pushCount += 1
    }
}
