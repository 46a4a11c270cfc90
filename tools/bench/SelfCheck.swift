import Glibc
import WebSocketCore

/// `ladderwire-bench selfcheck`: the bench's own arithmetic and parsing, checked on known vectors
/// (the package has no test target for tools/bench). Exits non-zero on the first failure.
func runSelfCheck(arguments: [String]) {
    var failures = 0
    func check(_ condition: Bool, _ what: String) {
        if !condition { failures += 1; writeError("selfcheck FAILED: \(what)") }
    }

    // Histogram: every value lands in a bucket whose bounds contain it and whose width is ≤ 1 %.
    var value: UInt64 = 0
    while value < 1 << 40 {
        let index = LatencyHistogram.bucketIndex(value)
        let low = LatencyHistogram.lowestValue(inBucket: index), high = LatencyHistogram.highestValue(inBucket: index)
        check(low <= value && value <= high, "bucket of \(value) is \(low)…\(high)")
        check(Double(high - low) <= 0.01 * Double(max(low, 1)) || high - low == 0, "bucket of \(value) wider than 1 %")
        value = value < 1000 ? value + 1 : value + value / 997
    }
    check(LatencyHistogram.bucketIndex(.max) < 256 + 56 * 128, "UInt64.max has a bucket")
    var histogram = LatencyHistogram()
    for micros in 1...10_000 { histogram.record(UInt64(micros) * 1000) }
    for (fraction, exact) in [(0.5, 5_000_000.0), (0.99, 9_900_000.0), (0.999, 9_990_000.0), (1.0, 10_000_000.0)] {
        let reported = Double(histogram.value(atFraction: fraction))
        check(abs(reported - exact) <= exact * 0.01, "p\(fraction * 100) of 1…10000 µs is \(reported), want ≈ \(exact)")
    }
    check(histogram.value(atFraction: 1.0) == 10_000_000, "the maximum is exact")

    // Frame reader: a split 16-bit-length text frame, a ping, a fragmented message, a close.
    let payload = Array(("{\"type\":\"fill\",\"seq\":9,\"execId\":\"Babc-42\",\"qty\":1}" + String(repeating: " ", count: 200)).utf8)
    var stream = FrameEncoder.frame(.text, payload: payload)
    stream += FrameEncoder.frame(.ping, payload: [1, 2])
    stream += FrameEncoder.frame(.text, payload: Array("{\"type\":".utf8), fin: false)
    stream += FrameEncoder.frame(.continuation, payload: Array("\"ack\",\"ref\":\"Babc-7\"}".utf8))
    stream += FrameEncoder.close(.normal)
    var reader = ServerFrameReader()
    reader.append(stream[..<3])
    check(reader.next() == nil, "a partial header is not a frame")
    reader.append(stream[3...])
    if case let ((.message(opcode, range), false))? = reader.next() {
        check(opcode == 1 && Array(reader.buffer[range]) == payload, "text frame payload")
        check(MessageScan.eventIndex(after: MessageScan.execIdKey, runTag: Array("Babc".utf8), in: reader.buffer, range: range) == 42, "execId → event 42")
        check(MessageScan.eventIndex(after: MessageScan.execIdKey, runTag: Array("Bzzz".utf8), in: reader.buffer, range: range) == nil, "another run's execId is ignored")
    } else { check(false, "first frame is the text message") }
    if case let (.ping(bytes), _)? = reader.next() { check(bytes == [1, 2], "ping payload") } else { check(false, "second frame is a ping") }
    if case let ((.message(_, range), true))? = reader.next() {
        check(MessageScan.startsWith(LatencyRun.ackPrefix, in: reader.assembled, range: range), "fragments reassembled")
        check(MessageScan.eventIndex(after: MessageScan.refKey, runTag: Array("Babc".utf8), in: reader.assembled, range: range) == 7, "ref → event 7")
    } else { check(false, "third frame is the reassembled message") }
    if case let (.close(code), _)? = reader.next() { check(code == 1000, "close code") } else { check(false, "last frame is a close") }

    // Feed lines: the execId is replaced, the recording's `at` dropped.
    let line = "{\"at\":\"2026-11-24T13:30:00.845Z\",\"type\":\"fill\",\"execId\":\"E1\",\"account\":\"A\",\"qty\":1}"
    if let feed = try? BenchFeed.parse(text: line, includeMarks: false) {
        let text = String(decoding: feed.payload(event: 12, runTag: Array("Bq".utf8)), as: UTF8.self)
        check(text == "{\"type\":\"fill\",\"execId\":\"Bq-12\",\"account\":\"A\",\"qty\":1}", "feed payload is \(text)")
    } else { check(false, "feed line parses") }

    // Expected deliveries count fills only, across repetitions of the file.
    let twoLines = line + "\n{\"at\":\"x\",\"type\":\"mark\",\"instrument\":\"ZNZ6\",\"price\":\"110-16\"}"
    if let feed = try? BenchFeed.parse(text: twoLines, includeMarks: true) {
        let run = LatencyRun(feed: feed, eventCount: 10, runTag: Array("Bq".utf8))
        check(feed.lines.count == 2 && feed.fillCount == 1, "marks kept with includeMarks")
        check(run.expectedFills(sent: 5) == 3, "5 events of fill, mark, fill, mark, fill hold 3 fills")
    } else { check(false, "feed with a mark parses") }
    let schedule = SendSchedule(rate: 3, start: 1_000)
    check(schedule.due(0) == 1_000 && schedule.due(3) == 1_000_001_000 && schedule.due(1) == 333_334_333,
          "event i is due at start + i/rate (integer nanoseconds)")

    check(ServerURL("ws://127.0.0.1:8080/ws")?.port == 8080, "URL port")
    check(ServerURL("wss://h:1") == nil, "TLS URLs are refused")

    if failures > 0 { exit(1) }
    print("selfcheck: ok")
}
