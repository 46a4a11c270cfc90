import CSystem
import Foundation
import Synchronization
import WebSocketCore

/// `ladderwire-bench latency --url ws://HOST:PORT [--subscribe-url ws://EDGE:PORT] [--feed FILE]
/// [--rate N/s | --pace recorded [--speed X]] [--subscribers N] [--seconds S] [--drain S] [--with-marks]
/// [--channels LIST] [--deflate] [--server-pid PID] [--edge-pid PID] [--svg FILE] [--json]`
///
/// `--deflate`: subscribers offer permessage-deflate (a declined offer fails the run);
/// `--channels`: what they subscribe to (default `fills`, the deliveries measured).
///
/// With `--subscribe-url` the producer writes to the core (`--url`) and the subscribers read an
/// edge, so the latency includes the stream hop (core → Redis → edge); `--edge-pid` reports the
/// edge's CPU per delivery.
///
/// Open loop: event i is due at start + i/rate (`--rate`) or at start + its recorded offset / X
/// (`--pace recorded --speed X`: the day as it was recorded, bursts and lulls included, X times
/// faster) and is sent then, whatever the server did with event i-1, and every latency is
/// measured from that due time, so a server stall shows up as latency instead of silently
/// lowering the offered rate (coordinated omission). The report breaks delivery latency down by
/// second of the replay; `--svg` draws the distribution and the per-second p99.
func runLatencyBench(arguments: [String]) {
    let options = BenchOptions(command: "latency", arguments: arguments,
                               valued: ["url", "subscribe-url", "feed", "rate", "subscribers", "seconds", "drain", "server-pid", "edge-pid",
                                        "build", "durability", "pace", "speed", "svg", "channels"],
                               switches: ["json", "with-marks", "deflate"])
    let url = ServerURL.required(options)
    var subscribeURL = url
    if let text = options.string("subscribe-url") {
        guard let parsed = ServerURL(text) else { BenchOptions.fail("latency: --subscribe-url must look like ws://127.0.0.1:8081, got '\(text)'") }
        subscribeURL = parsed
    }
    let edgeProcess = options.string("edge-pid") == nil ? nil : ServerProcess(pid: options.int("edge-pid", default: 0, minimum: 1))
    let rate = options.rate("rate", default: 1000)
    let subscriberCount = options.int("subscribers", default: 1, minimum: 1)
    let duration = options.nanoseconds("seconds", defaultSeconds: 10)
    let drain = options.nanoseconds("drain", defaultSeconds: 5)
    let feedPath = options.string("feed") ?? BenchFeed.locateDefault()
    let server = ServerProcess.from(options)
    _ = ClientSocket.raiseDescriptorLimit()

    let feed: BenchFeed
    do { feed = try BenchFeed.load(path: feedPath, includeMarks: options.flag("with-marks")) } catch {
        BenchOptions.fail("latency: cannot read feed \(feedPath): \(error.localizedDescription)")
    }
    let pace = options.string("pace", default: "rate")
    guard pace == "rate" || pace == "recorded" else { BenchOptions.fail("latency: --pace takes rate or recorded, got '\(pace)'") }
    let speedText = options.string("speed", default: "1")
    guard let speed = Double(speedText), speed > 0, speed <= 1_000_000 else {
        BenchOptions.fail("latency: --speed must be a positive number (2 = twice the recorded pace), got '\(speedText)'")
    }
    if pace == "rate" && options.string("speed") != nil { BenchOptions.fail("latency: --speed goes with --pace recorded") }
    if pace == "recorded" && options.string("rate") != nil { BenchOptions.fail("latency: --rate and --pace recorded exclude each other") }
    var recordedOffsets: [Int64]? = nil
    var eventCount = Int(Int64(rate) * duration / 1_000_000_000)
    var period: Int64 = 0
    if pace == "recorded" {
        guard let offsets = feed.offsets else {
            BenchOptions.fail("latency: --pace recorded needs an \"at\" time on every line of \(feedPath)")
        }
        let scaled = offsets.map { Int64(Double($0) / speed) }
        let span = scaled.last ?? 0
        period = span + max(1, span / Int64(max(1, scaled.count)))   // the file again after one average gap
        recordedOffsets = scaled
        // One pass over the recording unless --seconds says otherwise (longer: the file repeats).
        if options.string("seconds") != nil {
            let loops = Int(duration / period)
            eventCount = loops * scaled.count + scaled.filter { $0 < duration - Int64(loops) * period }.count
        } else {
            eventCount = scaled.count
        }
    }
    guard eventCount > 0 else { BenchOptions.fail("latency: --rate × --seconds gives no events") }
    let runTag = Array(makeRunTag().utf8)

    var run = LatencyRun(feed: feed, eventCount: eventCount, runTag: runTag)
    run.offerDeflate = options.flag("deflate")
    run.channels = options.string("channels", default: "fills")
    do { try run.connect(url, subscribeURL: subscribeURL, subscribers: subscriberCount) } catch {
        BenchOptions.fail("latency: \(error)")
    }
    guard run.awaitSnapshots(timeout: 30_000_000_000) else {
        BenchOptions.fail("latency: only \(run.snapshotsReceived) of \(subscriberCount) subscribers got a snapshot within 30 s")
    }

    let ticksBefore = server?.cpuTicks()
    let edgeTicksBefore = edgeProcess?.cpuTicks()
    let clientCPUBefore = benchCPUSeconds()
    let rssBefore = server?.residentKiB()
    let progress = SendProgress()
    let schedule = SendSchedule(rate: rate, start: monotonicNanoseconds() + 20_000_000, offsets: recordedOffsets, period: period)
    run.schedule = schedule
    let sender = FeedSender(fd: run.feedFD, feed: feed, runTag: runTag, eventCount: eventCount,
                            schedule: schedule, progress: progress)
    let thread = Thread { sender.run() }
    thread.stackSize = 1 << 20
    thread.start()

    run.receive(until: progress, drain: drain)
    let ticksAfter = server?.cpuTicks()
    let edgeTicksAfter = edgeProcess?.cpuTicks()
    let rssAfter = server?.residentKiB()
    let clientCPU = benchCPUSeconds() - clientCPUBefore

    var report = BenchReport(run: RunDescription(options: options))
    report.add("url", "ws://\(subscribeURL.host):\(subscribeURL.port)/ws?channels=\(run.channels) + ws://\(url.host):\(url.port)/feed")
    report.add("permessage_deflate", run.offerDeflate ? "agreed" : "not offered")
    report.add("feed", "\(feedPath) (\(feed.lines.count) lines, marks \(options.flag("with-marks") ? "included" : "left out"))")
    if let recordedOffsets {
        report.add("pace", "recorded × \(speedText) (\(String(format: "%.1f", Double(recordedOffsets.last ?? 0) / 1e9)) s per pass over the file)")
    } else {
        report.add("rate_per_s", rate)
    }
    report.add("seconds", recordedOffsets == nil ? Double(duration) / 1e9 : Double(schedule.due(eventCount - 1) - schedule.start) / 1e9)
    report.add("connections", subscriberCount + 1)
    run.addResults(to: &report, progress: progress)
    let window = Double(max(run.lastActivity, progress.finishedAt.load(ordering: .acquiring)) - schedule.start) / 1e9
    report.add("bench_cpu_percent_of_one_core", window > 0 ? (clientCPU / window * 1000).rounded() / 10 : 0)
    if let ticksBefore, let ticksAfter, let rssBefore, let rssAfter {
        let cpuSeconds = Double(ticksAfter - ticksBefore) / Double(ServerProcess.ticksPerSecond)
        let wall = Double(max(run.lastActivity, progress.finishedAt.load(ordering: .acquiring)) - schedule.start) / 1e9
        report.add("server_cpu_s", (cpuSeconds * 100).rounded() / 100)
        // CPU per event barely depends on how many other processes compete for the cores; counted
        // per answered event, since a server that fell behind has not processed the rest.
        let answered = run.ackCount + run.duplicateReplies + run.errorReplies
        report.add("server_cpu_us_per_answered_event", answered > 0 ? Int((cpuSeconds * 1e6 / Double(answered)).rounded()) : 0)
        report.add("server_cpu_percent_of_one_core", wall > 0 ? (cpuSeconds / wall * 1000).rounded() / 10 : 0)
        report.add("server_rss_kib_before_after", "\(rssBefore) \(rssAfter)")
    }
    if let edgeTicksBefore, let edgeTicksAfter {
        let cpuSeconds = Double(edgeTicksAfter - edgeTicksBefore) / Double(ServerProcess.ticksPerSecond)
        let wall = Double(max(run.lastActivity, progress.finishedAt.load(ordering: .acquiring)) - schedule.start) / 1e9
        report.add("edge_cpu_s", (cpuSeconds * 100).rounded() / 100)
        report.add("edge_cpu_percent_of_one_core", wall > 0 ? (cpuSeconds / wall * 1000).rounded() / 10 : 0)
        let delivered = run.deliveryCount
        report.add("edge_cpu_ns_per_delivery", delivered > 0 ? Int((cpuSeconds * 1e9 / Double(delivered)).rounded()) : 0)
    }
    let seconds = run.perSecond()
    if options.flag("json") {
        report.add("by_second", seconds.map { ["second": $0.second, "deliveries": $0.count, "p50_us": $0.p50 / 1000,
                                               "p99_us": $0.p99 / 1000, "max_us": $0.max / 1000] })
    }
    report.print(json: options.flag("json"))
    if !options.flag("json") { printPerSecond(seconds) }
    if let svgPath = options.string("svg") {
        let title = recordedOffsets != nil ? "\(feedPath) at the recorded pace × \(speedText)" : "\(feedPath) at \(rate)/s"
        do { try LatencyPlot.svg(title: title, deliveries: run.deliveryLatencies.map(\.latency), seconds: seconds)
                .write(toFile: svgPath, atomically: true, encoding: .utf8) } catch {
            BenchOptions.fail("latency: cannot write \(svgPath): \(error.localizedDescription)")
        }
        writeError("latency: plot written to \(svgPath)")
    }
    if let failure = progress.failure { writeError("latency: sender stopped early: \(failure)") }
}

/// Event i is due at `start + i × 1e9 / rate` nanoseconds on the monotonic clock, or, at the
/// recorded pace, at `start + offsets[i mod n] + (i / n) × period` (offsets already divided by
/// the speed; the file repeats every `period`).
struct SendSchedule: Sendable {
    var rate: Int
    var start: Int64
    var offsets: [Int64]? = nil
    var period: Int64 = 0

    func due(_ event: Int) -> Int64 {
        if let offsets {
            return start + offsets[event % offsets.count] + Int64(event / offsets.count) * period
        }
        return start + Int64(event) * 1_000_000_000 / Int64(rate)
    }
}

/// What the sender thread tells the receiving loop: how far it got and when it finished.
final class SendProgress: Sendable {
    let sent = Atomic<Int>(0)
    let finishedAt = Atomic<Int64>(0)
    private let failureText = Mutex<String?>(nil)

    var failure: String? { failureText.withLock { $0 } }
    func fail(_ text: String) { failureText.withLock { $0 = text } }
}

/// The sender thread: writes each due event as a masked text frame on `/feed`, coalescing every
/// event that is already due into one write, and never waits for an ack.
struct FeedSender: Sendable {
    let fd: Int32
    let feed: BenchFeed
    let runTag: [UInt8]
    let eventCount: Int
    let schedule: SendSchedule
    let progress: SendProgress

    func run() {
        var next = 0
        var batch: [UInt8] = []
        batch.reserveCapacity(1 << 18)
        var maskState: UInt32 = UInt32.random(in: 1...UInt32.max)
        while next < eventCount {
            let now = monotonicNanoseconds()
            let due = schedule.due(next)
            if due > now {
                sleep(untilMonotonic: due)
                continue
            }
            batch.removeAll(keepingCapacity: true)
            while next < eventCount && schedule.due(next) <= now && batch.count < (1 << 18) {
                // xorshift32: a cheap fresh mask per frame (the server only has to unmask it).
                maskState ^= maskState << 13; maskState ^= maskState >> 17; maskState ^= maskState << 5
                let key = (UInt8(truncatingIfNeeded: maskState), UInt8(truncatingIfNeeded: maskState >> 8),
                           UInt8(truncatingIfNeeded: maskState >> 16), UInt8(truncatingIfNeeded: maskState >> 24))
                batch.append(contentsOf: FrameEncoder.maskedFrame(.text, payload: feed.payload(event: next, runTag: runTag), maskKey: key))
                next += 1
            }
            do { try ClientSocket.writeAll(fd, batch) } catch {
                progress.fail(error.description)
                break
            }
            progress.sent.store(next, ordering: .releasing)
        }
        progress.finishedAt.store(monotonicNanoseconds(), ordering: .releasing)
    }
}

/// One subscriber connection on `/ws?channels=fills`, as the receiving loop sees it.
struct SubscriberStream {
    let fd: Int32
    var reader: ServerFrameReader
    var sawSnapshot = false
    /// One bit per event: set when its fill arrived (a second arrival is a duplicate).
    var arrived: [UInt64]
    var highestEvent = -1
    var received = 0
    var duplicates = 0
    var outOfOrder = 0
    var closeCode: Int?
}

/// The receiving side of a latency run: one epoll loop over every subscriber socket and the
/// producer socket's replies, on the main thread.
struct LatencyRun {
    let feed: BenchFeed
    let eventCount: Int
    let runTag: [UInt8]
    var schedule = SendSchedule(rate: 1, start: 0)

    var subscribers: [SubscriberStream] = []
    var offerDeflate = false
    var channels = "fills"
    /// Bytes read from every subscriber socket (the wire, compressed or not), snapshot included.
    var subscriberWireBytes = 0
    var feedFD: Int32 = -1
    var feedReader = ServerFrameReader()
    var epoll: Int32 = -1

    var deliveries = LatencyHistogram()
    /// Every delivery's (second of the replay it was due in, latency in ns), for the per-second view.
    var deliveryLatencies: [(second: Int, latency: Int64)] = []
    var acks = LatencyHistogram()
    var ackCount = 0
    var duplicateReplies = 0
    var errorReplies = 0
    var firstError: String?
    var snapshotsReceived = 0
    var lastActivity: Int64 = 0
    var expectedDeliveries = 0
    var closedSubscribers = 0

    private var readBuffer = [UInt8](repeating: 0, count: 1 << 18)

    init(feed: BenchFeed, eventCount: Int, runTag: [UInt8]) {
        self.feed = feed
        self.eventCount = eventCount
        self.runTag = runTag
    }

    mutating func connect(_ url: ServerURL, subscribeURL: ServerURL, subscribers count: Int) throws(ClientSocket.Failure) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        let words = (eventCount + 63) / 64
        for index in 0..<count {
            let (fd, leftover) = try ClientHandshake.open(subscribeURL, target: "/ws?channels=\(channels)", offerDeflate: offerDeflate)
            ClientSocket.setNonBlocking(fd)
            subscribers.append(SubscriberStream(fd: fd, reader: ServerFrameReader(initial: leftover),
                                                arrived: [UInt64](repeating: 0, count: words)))
            _ = lw_epoll_ctl(epoll, EPOLL_CTL_ADD, fd, EPOLLIN.rawValue, UInt64(index))
        }
        let (fd, leftover) = try ClientHandshake.open(url, target: "/feed")
        ClientSocket.setNonBlocking(fd)
        feedFD = fd
        feedReader = ServerFrameReader(initial: leftover)
        _ = lw_epoll_ctl(epoll, EPOLL_CTL_ADD, fd, EPOLLIN.rawValue, UInt64(count))
        for index in subscribers.indices { drainFrames(subscriber: index, now: monotonicNanoseconds()) }
    }

    mutating func awaitSnapshots(timeout: Int64) -> Bool {
        let deadline = monotonicNanoseconds() + timeout
        while snapshotsReceived < subscribers.count && monotonicNanoseconds() < deadline { poll(timeoutMilliseconds: 50) }
        return snapshotsReceived == subscribers.count
    }

    /// Runs until the sender finished and every expected delivery and reply arrived, or `drain`
    /// passed since the last send.
    mutating func receive(until progress: SendProgress, drain: Int64) {
        while true {
            poll(timeoutMilliseconds: 10)
            let finished = progress.finishedAt.load(ordering: .acquiring)
            guard finished != 0 else { continue }
            let sent = progress.sent.load(ordering: .acquiring)
            expectedDeliveries = expectedFills(sent: sent) * subscribers.count
            let receivedAll = subscribers.reduce(0) { $0 + $1.received } >= expectedDeliveries
            let repliedAll = ackCount + duplicateReplies + errorReplies >= sent
            if (receivedAll && repliedAll) || monotonicNanoseconds() > finished + drain { return }
        }
    }

    func expectedFills(sent: Int) -> Int {
        let whole = sent / feed.lines.count
        var fills = whole * feed.fillCount
        for index in (whole * feed.lines.count)..<sent where feed.isFill(event: index) { fills += 1 }
        return fills
    }

    private mutating func poll(timeoutMilliseconds: Int32) {
        var tokens = [UInt64](repeating: 0, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        let ready = lw_epoll_wait(epoll, &tokens, &events, 256, timeoutMilliseconds)
        guard ready > 0 else { return }
        for slot in 0..<Int(ready) {
            let token = Int(tokens[slot])
            if token == subscribers.count {
                readFeedReplies()
            } else {
                readSubscriber(token)
            }
        }
    }

    private mutating func readSubscriber(_ index: Int) {
        while true {
            let count = ClientSocket.read(subscribers[index].fd, into: &readBuffer)
            if count == -1 { return }
            if count <= 0 {
                _ = lw_epoll_ctl(epoll, EPOLL_CTL_DEL, subscribers[index].fd, 0, 0)
                if subscribers[index].closeCode == nil { subscribers[index].closeCode = 1006; closedSubscribers += 1 }
                return
            }
            let now = monotonicNanoseconds()
            lastActivity = now
            subscriberWireBytes += count
            subscribers[index].reader.append(readBuffer[..<count])
            drainFrames(subscriber: index, now: now)
            if count < readBuffer.count { return }
        }
    }

    private mutating func drainFrames(subscriber index: Int, now: Int64) {
        while let (frame, inAssembled) = subscribers[index].reader.next() {
            switch frame {
            case .message(_, let payload):
                let bytes = inAssembled ? subscribers[index].reader.assembled : subscribers[index].reader.buffer
                guard subscribers[index].sawSnapshot else {
                    // The snapshot comes first; its `fills` are history, not this run's deliveries.
                    subscribers[index].sawSnapshot = true
                    snapshotsReceived += 1
                    continue
                }
                guard let event = MessageScan.eventIndex(after: MessageScan.execIdKey, runTag: runTag, in: bytes, range: payload),
                      event < eventCount else { continue }
                record(event: event, subscriber: index, now: now)
            case .ping(let payload):
                try? ClientSocket.writeAll(subscribers[index].fd, FrameEncoder.maskedFrame(.pong, payload: payload, maskKey: (1, 2, 3, 4)))
            case .close(let code):
                if subscribers[index].closeCode == nil { subscribers[index].closeCode = code; closedSubscribers += 1 }
            }
        }
    }

    private mutating func record(event: Int, subscriber index: Int, now: Int64) {
        let word = event >> 6, bit = UInt64(1) << UInt64(event & 63)
        if subscribers[index].arrived[word] & bit != 0 {
            subscribers[index].duplicates += 1
            return
        }
        subscribers[index].arrived[word] |= bit
        subscribers[index].received += 1
        if event < subscribers[index].highestEvent { subscribers[index].outOfOrder += 1 } else { subscribers[index].highestEvent = event }
        let due = schedule.due(event)
        deliveries.record(UInt64(max(0, now - due)))
        deliveryLatencies.append((second: Int((due - schedule.start) / 1_000_000_000), latency: max(0, now - due)))
    }

    private mutating func readFeedReplies() {
        while true {
            let count = ClientSocket.read(feedFD, into: &readBuffer)
            if count == -1 { return }
            if count <= 0 {
                _ = lw_epoll_ctl(epoll, EPOLL_CTL_DEL, feedFD, 0, 0)
                if firstError == nil { firstError = "the server closed /feed" }
                return
            }
            let now = monotonicNanoseconds()
            feedReader.append(readBuffer[..<count])
            while let (frame, inAssembled) = feedReader.next() {
                guard case .message(_, let payload) = frame else {
                    if case .close(let code) = frame, firstError == nil { firstError = "the server closed /feed with \(code)" }
                    continue
                }
                let bytes = inAssembled ? feedReader.assembled : feedReader.buffer
                if MessageScan.startsWith(Self.ackPrefix, in: bytes, range: payload) {
                    ackCount += 1
                    if let event = MessageScan.eventIndex(after: MessageScan.refKey, runTag: runTag, in: bytes, range: payload) {
                        acks.record(UInt64(max(0, now - schedule.due(event))))
                    }
                } else if MessageScan.startsWith(Self.duplicatePrefix, in: bytes, range: payload) {
                    duplicateReplies += 1
                } else {
                    errorReplies += 1
                    if firstError == nil { firstError = String(decoding: bytes[payload].prefix(300), as: UTF8.self) }
                }
            }
            if count < readBuffer.count { return }
        }
    }

    /// Delivery latency by second of the replay (the second each event was due in), seconds
    /// without events left out.
    func perSecond() -> [SecondStats] {
        var bySecond: [Int: [Int64]] = [:]
        for (second, latency) in deliveryLatencies { bySecond[second, default: []].append(latency) }
        return bySecond.keys.sorted().map { second in
            let values = bySecond[second]!.sorted()
            func at(_ fraction: Double) -> Int64 { values[min(values.count - 1, max(0, Int((fraction * Double(values.count)).rounded(.up)) - 1))] }
            return SecondStats(second: second, count: values.count, p50: at(0.5), p99: at(0.99), max: values.last!)
        }
    }

    static let ackPrefix = Array("{\"type\":\"ack\"".utf8)
    static let duplicatePrefix = Array("{\"type\":\"duplicate\"".utf8)

    /// Deliveries received so far, every subscriber.
    var deliveryCount: Int { subscribers.reduce(0) { $0 + $1.received } }

    func addResults(to report: inout BenchReport, progress: SendProgress) {
        let sent = progress.sent.load(ordering: .acquiring)
        let expected = expectedFills(sent: sent) * subscribers.count
        let received = subscribers.reduce(0) { $0 + $1.received }
        let sendSeconds = Double(progress.finishedAt.load(ordering: .acquiring) - schedule.start) / 1e9
        let receiveSeconds = Double(max(0, lastActivity - schedule.start)) / 1e9
        report.add("events_sent", sent)
        report.add("fills_sent", expectedFills(sent: sent))
        report.add("send_rate_achieved_per_s", sendSeconds > 0 ? Int((Double(sent) / sendSeconds).rounded()) : 0)
        report.add("replies_ack_dup_error", "\(ackCount) \(duplicateReplies) \(errorReplies)")
        if let firstError { report.add("first_error", firstError) }
        report.add("deliveries_expected", expected)
        report.add("deliveries_received", received)
        report.add("lost", expected - received)
        report.add("duplicates", subscribers.reduce(0) { $0 + $1.duplicates })
        report.add("out_of_order", subscribers.reduce(0) { $0 + $1.outOfOrder })
        report.add("subscribers_closed_by_server", closedSubscribers)
        let codes = Set(subscribers.compactMap(\.closeCode)).sorted()
        if !codes.isEmpty { report.add("close_codes", codes.map(String.init).joined(separator: ",")) }
        report.add("subscriber_wire_bytes", subscriberWireBytes)
        report.add("wire_bytes_per_event_per_subscriber",
                   sent > 0 && !subscribers.isEmpty ? Int((Double(subscriberWireBytes) / Double(subscribers.count) / Double(sent)).rounded()) : 0)
        report.add("compressed_messages", subscribers.reduce(0) { $0 + $1.reader.compressedMessages })
        report.add("deliveries_per_s", receiveSeconds > 0 ? Int((Double(received) / receiveSeconds).rounded()) : 0)
        for (name, value) in latencyFields("delivery", deliveries) { report.add(name, value) }
        for (name, value) in latencyFields("ack", acks) { report.add(name, value) }
    }
}

/// Delivery latency of one second of the replay (nanoseconds).
struct SecondStats {
    var second: Int
    var count: Int
    var p50: Int64
    var p99: Int64
    var max: Int64
}

/// The per-second table after the summary: one line per second that had deliveries.
func printPerSecond(_ seconds: [SecondStats]) {
    guard !seconds.isEmpty else { return }
    print("by second of the replay (delivery latency, ms):")
    print("  second  deliveries      p50      p99      max")
    func ms(_ nanos: Int64) -> String { String(format: "%8.3f", Double(nanos) / 1e6) }
    for s in seconds {
        let second = String(s.second).leftPadded(to: 8), count = String(s.count).leftPadded(to: 12)
        print("\(second)\(count) \(ms(s.p50)) \(ms(s.p99)) \(ms(s.max))")
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
