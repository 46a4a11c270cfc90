import CSystem
import Foundation
import WebSocketCore

/// `ladderwire-bench ingest --url ws://HOST:PORT [--seconds S] [--pipeline N] [--feed FILE]`:
/// producer-side throughput, closed loop with N messages in flight on one `/feed` connection
/// (each reply lets the next fill go), reporting acknowledged fills per second and the time
/// from send to ack.
func runIngestBench(arguments: [String]) {
    let options = BenchOptions(command: "ingest", arguments: arguments,
                               valued: ["url", "seconds", "pipeline", "feed", "server-pid", "build", "durability"],
                               switches: ["json"])
    let url = ServerURL.required(options)
    let duration = options.nanoseconds("seconds", defaultSeconds: 10)
    let pipeline = options.int("pipeline", default: 64, minimum: 1)
    let feedPath = options.string("feed") ?? BenchFeed.locateDefault()
    let server = ServerProcess.from(options)
    let feed: BenchFeed
    do { feed = try BenchFeed.load(path: feedPath, includeMarks: false) } catch {
        BenchOptions.fail("ingest: cannot read feed \(feedPath): \(error.localizedDescription)")
    }
    let fd: Int32
    var reader: ServerFrameReader
    do {
        let opened = try ClientHandshake.open(url, target: "/feed")
        fd = opened.fd
        reader = ServerFrameReader(initial: opened.leftover)
    } catch {
        BenchOptions.fail("ingest: \(error)")
    }
    ClientSocket.setNonBlocking(fd)

    let runTag = Array(makeRunTag().utf8)
    // Send times by event index modulo a ring far larger than what can be in flight.
    let ringSize = max(1024, pipeline * 8)
    var sentAt = [Int64](repeating: 0, count: ringSize)
    var nextEvent = 0
    var inFlight = 0
    var acked = 0, duplicates = 0, errors = 0
    var firstError: String?
    var latency = LatencyHistogram()
    var readBuffer = [UInt8](repeating: 0, count: 1 << 16)
    var batch: [UInt8] = []
    var failure: String?
    let ticksBefore = server?.cpuTicks()

    let began = monotonicNanoseconds()
    let stopSending = began + duration
    var lastReply = began
    func topUp() throws(ClientSocket.Failure) {
        batch.removeAll(keepingCapacity: true)
        let now = monotonicNanoseconds()
        while inFlight < pipeline {
            sentAt[nextEvent % ringSize] = now
            batch.append(contentsOf: FrameEncoder.maskedFrame(.text, payload: feed.payload(event: nextEvent, runTag: runTag),
                                                              maskKey: (0x5A, 0x13, 0xC4, 0x7E)))
            nextEvent += 1
            inFlight += 1
        }
        if !batch.isEmpty { try ClientSocket.writeAll(fd, batch) }
    }

    do { try topUp() } catch { failure = error.description }
    loop: while failure == nil {
        let now = monotonicNanoseconds()
        if now >= stopSending && inFlight == 0 { break }
        if now >= stopSending + 5_000_000_000 { failure = "\(inFlight) replies missing 5 s after the last send"; break }
        guard ClientSocket.waitReadable(fd, timeoutMilliseconds: 100) else { continue }
        let count = ClientSocket.read(fd, into: &readBuffer)
        if count == -1 { continue }
        if count <= 0 { failure = "the server closed /feed"; break }
        let arrived = monotonicNanoseconds()
        reader.append(readBuffer[..<count])
        while let (frame, inAssembled) = reader.next() {
            guard case .message(_, let payload) = frame else {
                if case .close(let code) = frame { failure = "the server closed /feed with \(code)"; break loop }
                continue
            }
            let bytes = inAssembled ? reader.assembled : reader.buffer
            inFlight -= 1
            lastReply = arrived
            if MessageScan.startsWith(LatencyRun.ackPrefix, in: bytes, range: payload) {
                acked += 1
                if let event = MessageScan.eventIndex(after: MessageScan.refKey, runTag: runTag, in: bytes, range: payload) {
                    latency.record(UInt64(max(0, arrived - sentAt[event % ringSize])))
                }
            } else if MessageScan.startsWith(LatencyRun.duplicatePrefix, in: bytes, range: payload) {
                duplicates += 1
            } else {
                errors += 1
                if firstError == nil { firstError = String(decoding: bytes[payload].prefix(300), as: UTF8.self) }
            }
        }
        if arrived < stopSending {
            do { try topUp() } catch { failure = error.description }
        }
    }
    let ticksAfter = server?.cpuTicks()
    let elapsed = Double(lastReply - began) / 1e9

    var report = BenchReport(run: RunDescription(options: options))
    report.add("url", "ws://\(url.host):\(url.port)/feed")
    report.add("pipeline", pipeline)
    report.add("seconds", (elapsed * 100).rounded() / 100)
    report.add("fills_sent", nextEvent)
    report.add("replies_ack_dup_error", "\(acked) \(duplicates) \(errors)")
    if let firstError { report.add("first_error", firstError) }
    if let failure { report.add("failure", failure) }
    report.add("acked_fills_per_s", elapsed > 0 ? Int((Double(acked) / elapsed).rounded()) : 0)
    for (name, value) in latencyFields("ack", latency) { report.add(name, value) }
    if let ticksBefore, let ticksAfter, elapsed > 0 {
        let cpuSeconds = Double(ticksAfter - ticksBefore) / Double(ServerProcess.ticksPerSecond)
        report.add("server_cpu_percent_of_one_core", (cpuSeconds / elapsed * 1000).rounded() / 10)
        report.add("server_cpu_us_per_fill", acked > 0 ? Int((cpuSeconds * 1e6 / Double(acked)).rounded()) : 0)
    }
    report.print(json: options.flag("json"))
    close(fd)
}
