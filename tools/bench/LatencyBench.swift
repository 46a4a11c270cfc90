import CSystem
import Foundation
import Synchronization
import WebSocketCore

/// `ladderwire-bench latency --url ws://HOST:PORT [--feed FILE] [--rate N/s] [--subscribers N]
/// [--seconds S] [--drain S] [--with-marks] [--channels LIST] [--deflate] [--server-pid PID] [--json]`
///
/// `--deflate`: subscribers offer permessage-deflate (a declined offer fails the run);
/// `--channels`: what they subscribe to (default `fills`, the deliveries measured).
///
/// Open loop: event i is due at start + i/rate and is sent then, whatever the server did with
/// event i-1, and every latency is measured from that due time, so a server stall shows up as
/// latency instead of silently lowering the offered rate (coordinated omission).
func runLatencyBench(arguments: [String]) {
    let options = BenchOptions(command: "latency", arguments: arguments,
                               valued: ["url", "feed", "rate", "subscribers", "seconds", "drain", "server-pid", "build", "durability", "channels"],
                               switches: ["json", "with-marks", "deflate"])
    let url = ServerURL.required(options)
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
    let eventCount = Int(Int64(rate) * duration / 1_000_000_000)
    guard eventCount > 0 else { BenchOptions.fail("latency: --rate × --seconds gives no events") }
    let runTag = Array(makeRunTag().utf8)

    var run = LatencyRun(feed: feed, eventCount: eventCount, runTag: runTag)
    run.offerDeflate = options.flag("deflate")
    run.channels = options.string("channels", default: "fills")
    do { try run.connect(url, subscribers: subscriberCount) } catch {
        BenchOptions.fail("latency: \(error)")
    }
    guard run.awaitSnapshots(timeout: 30_000_000_000) else {
        BenchOptions.fail("latency: only \(run.snapshotsReceived) of \(subscriberCount) subscribers got a snapshot within 30 s")
    }

    let ticksBefore = server?.cpuTicks()
    let clientCPUBefore = benchCPUSeconds()
    let rssBefore = server?.residentKiB()
    let progress = SendProgress()
    let schedule = SendSchedule(rate: rate, start: monotonicNanoseconds() + 20_000_000)
    run.schedule = schedule
    let sender = FeedSender(fd: run.feedFD, feed: feed, runTag: runTag, eventCount: eventCount,
                            schedule: schedule, progress: progress)
    let thread = Thread { sender.run() }
    thread.stackSize = 1 << 20
    thread.start()

    run.receive(until: progress, drain: drain)
    let ticksAfter = server?.cpuTicks()
    let rssAfter = server?.residentKiB()
    let clientCPU = benchCPUSeconds() - clientCPUBefore

    var report = BenchReport(run: RunDescription(options: options))
    report.add("url", "ws://\(url.host):\(url.port)/ws?channels=\(run.channels) + /feed")
    report.add("permessage_deflate", run.offerDeflate ? "agreed" : "not offered")
    report.add("feed", "\(feedPath) (\(feed.lines.count) lines, marks \(options.flag("with-marks") ? "included" : "left out"))")
    report.add("rate_per_s", rate)
    report.add("seconds", Double(duration) / 1e9)
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
    report.print(json: options.flag("json"))
    if let failure = progress.failure { writeError("latency: sender stopped early: \(failure)") }
}

/// Event i is due at `start + i × 1e9 / rate` nanoseconds on the monotonic clock.
struct SendSchedule: Sendable {
    var rate: Int
    var start: Int64

    func due(_ event: Int) -> Int64 { start + Int64(event) * 1_000_000_000 / Int64(rate) }
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

    mutating func connect(_ url: ServerURL, subscribers count: Int) throws(ClientSocket.Failure) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        let words = (eventCount + 63) / 64
        for index in 0..<count {
            let (fd, leftover) = try ClientHandshake.open(url, target: "/ws?channels=\(channels)", offerDeflate: offerDeflate)
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
        deliveries.record(UInt64(max(0, now - schedule.due(event))))
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

    static let ackPrefix = Array("{\"type\":\"ack\"".utf8)
    static let duplicatePrefix = Array("{\"type\":\"duplicate\"".utf8)

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
