import TestSupport
import Foundation
import Testing
@testable import EventSources

@Suite struct ReplayMonitorTests {
    static let smallFeed = """
        # a comment, then a blank line

        {"at":"2026-11-24T13:30:00.000Z","type":"sod","account":"ACC1","instrument":"ZNZ6","qty":2,"price":"110'160"}
        {"at":"2026-11-24T13:30:00.000Z","type":"mark","instrument":"ZNZ6","price":"110-16"}
        {"at":"2026-11-24T13:30:01.000Z","type":"fill","execId":"E1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":3,"price":"110-18.5"}
        {"at":"2026-11-24T13:30:03.000Z","type":"fill","execId":"E2","account":"ACC1","instrument":"ZNZ6","side":"sell","qty":1,"price":"110'185","time":"2026-11-24T13:30:02.500Z"}
        {"at":"2026-11-24T13:30:03.500Z","type":"bust","execId":"E1"}
        {"at":"2026-11-24T13:30:04.000Z","type":"correct","execId":"E2","qty":2}
        """

    func replay(_ text: String, configure: (inout ReplayConfig) -> Void = { _ in },
                clock: ManualClock = ManualClock(), batchLimit: Int = 500) -> (ReplayMonitor, TemporaryDirectory) {
        let folder = TemporaryDirectory()
        var config = ReplayConfig()
        config.file = folder.write("feed.ndjson", text)
        config.loop = false
        configure(&config)
        return (ReplayMonitor(config: config, clock: clock, batchLimit: batchLimit), folder)
    }

    @Test func replaysInOrderAtRecordedPaceTimesSpeed() throws {
        let clock = ManualClock()
        let (monitor, folder) = replay(Self.smallFeed, configure: { $0.speed = 2 }, clock: clock)
        defer { folder.remove() }
        let sink = RecordingSink()
        try monitor.run(sink: sink, status: StatusLog(), stopping: StopSignal())
        #expect(sink.messages.map(\.ref) == ["ACC1/ZNZ6", "ZNZ6", "E1", "E2", "E1", "E2"])
        // Gaps of 1 s, 2 s, 0.5 s, 0.5 s recorded, halved by speed 2.
        #expect(clock.sleeps == [500 * millisecond, 1 * second, 250 * millisecond, 250 * millisecond])
        // Lines due together go in one batch; the cursor is the last line number of each batch.
        #expect(sink.submissions.map(\.cursor) == ["0:4", "0:5", "0:6", "0:7", "0:8"])
        #expect(sink.cursor(named: "replay") == "0:8")
        #expect(monitor.replayCounts.loopsCompleted == 1)
    }

    /// A failed commit stores nothing, cursor included: the replay sends the same lines again
    /// after a pause, reports `degraded` meanwhile, and never skips a line.
    @Test func linesThatWereNotStoredAreSentAgainNotSkipped() throws {
        let clock = ManualClock()
        let (monitor, folder) = replay(Self.smallFeed, configure: { $0.speed = 2 }, clock: clock)
        defer { folder.remove() }
        let sink = RecordingSink()
        sink.failNextCommits(3)
        let status = StatusLog()
        try monitor.run(sink: sink, status: status, stopping: StopSignal())
        #expect(sink.failedSubmissions == 3)
        #expect(sink.messages.map(\.ref) == ["ACC1/ZNZ6", "ZNZ6", "E1", "E2", "E1", "E2"])
        // The pauses (0.2 + 0.4 + 0.8 s) made E1 due too: it joins the retried first batch.
        #expect(sink.submissions.map(\.cursor) == ["0:5", "0:6", "0:7", "0:8"])
        #expect(sink.cursor(named: "replay") == "0:8")
        // Degraded while the first batch is refused, running again once it is stored.
        #expect(status.states(of: "replay") == [.running, .degraded, .degraded, .degraded] + Array(repeating: .running, count: 4))
        #expect(status.all[1].lastError?.contains("not stored, retrying") == true)
    }

    @Test func speedZeroSendsEverythingWithoutWaiting() throws {
        let clock = ManualClock()
        let (monitor, folder) = replay(Self.smallFeed, configure: { $0.speed = 0 }, clock: clock)
        defer { folder.remove() }
        let sink = RecordingSink()
        try monitor.run(sink: sink, status: StatusLog(), stopping: StopSignal())
        #expect(clock.sleeps.isEmpty)
        #expect(sink.submissions.count == 1)
        #expect(sink.messages.count == 6)
    }

    @Test func timesAreLeftToTheServerUnlessKept() throws {
        let (monitor, folder) = replay(Self.smallFeed, configure: { $0.speed = 0 })
        defer { folder.remove() }
        let sink = RecordingSink()
        try monitor.run(sink: sink, status: StatusLog(), stopping: StopSignal())
        #expect(sink.messages[2] == .fill(execId: "E1", account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 3, price: "110-18.5", time: nil))

        let (kept, keptFolder) = replay(Self.smallFeed, configure: { $0.speed = 0; $0.keepTimes = true })
        defer { keptFolder.remove() }
        let keptSink = RecordingSink()
        try kept.run(sink: keptSink, status: StatusLog(), stopping: StopSignal())
        // No `time` in the line: the recorded `at`; a `time` in the line wins.
        #expect(keptSink.messages[2] == .fill(execId: "E1", account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 3,
                                              price: "110-18.5", time: "2026-11-24T13:30:01.000Z"))
        #expect(keptSink.messages[3] == .fill(execId: "E2", account: "ACC1", instrument: "ZNZ6", side: "sell", qty: 1,
                                              price: "110'185", time: "2026-11-24T13:30:02.500Z"))
    }

    @Test func recordedTimesAreReadExactlyAndImpossibleOnesRefused() {
        let text = """
            {"at":"2024-02-29T23:59:59.5Z","type":"mark","instrument":"ZNZ6","price":"110-16"}
            {"at":"2026-11-24T14:30:00.123456789Z","type":"mark","instrument":"ZNZ6","price":"110-16"}
            {"at":"2026-11-24 14:30","type":"mark","instrument":"ZNZ6","price":"110-16"}
            {"at":"2026-02-30T00:00:00Z","type":"mark","instrument":"ZNZ6","price":"110-16"}
            """
        let feed = RecordedFeed(text: text)
        #expect(feed.lines.map(\.at) == [1_709_251_199_500_000_000, 1_795_530_600_123_456_789])
        #expect(feed.badLines.map(\.description) == [
            "line 3: field 'at' is not an ISO 8601 UTC time: \"2026-11-24 14:30\"",
            "line 4: field 'at' is not an ISO 8601 UTC time: \"2026-02-30T00:00:00Z\"",
        ])
    }

    @Test func badLinesAreReportedWithLineNumbersAndSkipped() throws {
        let text = """
            {"at":"2026-11-24T13:30:00.000Z","type":"mark","instrument":"ZNZ6","price":"110-16"}
            not json
            {"type":"mark","instrument":"ZNZ6","price":"110-16"}
            {"at":"yesterday","type":"mark","instrument":"ZNZ6","price":"110-16"}
            {"at":"2026-11-24T13:30:01.000Z","type":"mark","instrument":"ZNZ6","price":110.5}
            {"at":"2026-11-24T13:30:01.000Z","type":"trade","instrument":"ZNZ6"}
            {"at":"2026-11-24T13:29:59.000Z","type":"mark","instrument":"ZNZ6","price":"110-17"}
            {"at":"2026-11-24T13:30:02.000Z","type":"mark","instrument":"ZNZ6","price":"110-17"}
            """
        let feed = RecordedFeed(text: text)
        #expect(feed.lines.map(\.number) == [1, 8])
        #expect(feed.badLines.map(\.number) == [2, 3, 4, 5, 6, 7])
        #expect(feed.badLines[0].description == "line 2: not a JSON object")
        #expect(feed.badLines[1].reason == "field 'at' (ISO 8601 UTC time) is required")
        #expect(feed.badLines[3].reason.hasPrefix("invalid_price"))
        #expect(feed.badLines[4].reason.hasPrefix("unknown_type"))
        #expect(feed.badLines[5].reason.contains("must be sorted"))

        let (monitor, folder) = replay(text, configure: { $0.speed = 0 })
        defer { folder.remove() }
        let sink = RecordingSink()
        let status = StatusLog()
        try monitor.run(sink: sink, status: status, stopping: StopSignal())
        #expect(sink.messages.count == 2)
        #expect(monitor.replayCounts.badLines == 6)
        #expect(status.all.last?.lastError?.hasPrefix("6 bad line(s) skipped, last: line 7:") == true)
    }

    @Test func unreadableOrEmptyFeedFails() {
        var config = ReplayConfig()
        config.file = "/nonexistent/feed.ndjson"
        #expect(throws: ReplayError.self) {
            try ReplayMonitor(config: config, clock: ManualClock()).run(sink: RecordingSink(), status: StatusLog(), stopping: StopSignal())
        }
        let (monitor, folder) = replay("# nothing\n")
        defer { folder.remove() }
        #expect(throws: ReplayError.self) { try monitor.run(sink: RecordingSink(), status: StatusLog(), stopping: StopSignal()) }
    }

    @Test func loopingGivesNewExecIdsAndSendsSODOnce() throws {
        let stopping = StopSignal()
        // Speed 0 sleeps only between passes: stop during the third pause, after passes 0, 1, 2.
        let clock = ManualClock(afterSleep: { count, _ in if count == 3 { stopping.stop() } })
        let (monitor, folder) = replay(Self.smallFeed, configure: { $0.speed = 0; $0.loop = true }, clock: clock)
        defer { folder.remove() }
        let sink = RecordingSink()
        try monitor.run(sink: sink, status: StatusLog(), stopping: stopping)
        let refs = sink.messages.map(\.ref)
        #expect(refs == ["ACC1/ZNZ6", "ZNZ6", "E1", "E2", "E1", "E2",
                         "ZNZ6", "E1~L1", "E2~L1", "E1~L1", "E2~L1",
                         "ZNZ6", "E1~L2", "E2~L2", "E1~L2", "E2~L2"])
        #expect(sink.duplicateCount == 0)
        #expect(Set(sink.ackedFillIds).count == 6)
        #expect(sink.cursor(named: "replay") == "2:8")
    }

    @Test func laterPassesPlaceTheirOwnOrdersAndFillThem() throws {
        let text = """
            {"at":"2026-11-24T13:30:00.000Z","type":"order","action":"new","orderId":"O1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":2,"price":"110-16"}
            {"at":"2026-11-24T13:30:01.000Z","type":"fill","execId":"E1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":2,"price":"110-16","orderId":"O1"}
            """
        let (monitor, folder) = replay(text)
        defer { folder.remove() }
        let feed = RecordedFeed(text: text)
        #expect(feed.badLines.isEmpty)
        guard case .order(let first)? = monitor.rewrite(feed.lines[0], loop: 0),
              case .order(let later)? = monitor.rewrite(feed.lines[0], loop: 2),
              case .fill(_, _, _, _, _, _, _, let orderId)? = monitor.rewrite(feed.lines[1], loop: 2) else {
            Issue.record("orders were not replayed"); return
        }
        #expect(first.orderId == "O1" && first.time == nil && first.qty == 2)
        #expect(later.orderId == "O1~L2" && orderId == "O1~L2")
    }

    @Test func restartMidFeedResumesAfterTheCursorWithoutDuplicates() throws {
        let lines = (1...20).map { n in
            #"{"at":"2026-11-24T13:30:\#(String(format: "%02d", n)).000Z","type":"fill","execId":"E\#(n)","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-16"}"#
        }
        let (monitor, folder) = replay(lines.joined(separator: "\n"), configure: { $0.speed = 0 }, batchLimit: 3)
        defer { folder.remove() }
        let stopping = StopSignal()
        let sink = RecordingSink(onSubmit: { count in if count == 2 { stopping.stop() } })
        try monitor.run(sink: sink, status: StatusLog(), stopping: stopping)
        #expect(sink.fills.count == 6)
        #expect(sink.cursor(named: "replay") == "0:6")

        // A new monitor (as after a restart) on the same store continues at line 7.
        let (again, againFolder) = replay(lines.joined(separator: "\n"), configure: { $0.speed = 0 }, batchLimit: 3)
        defer { againFolder.remove() }
        try again.run(sink: sink, status: StatusLog(), stopping: StopSignal())
        #expect(sink.ackedFillIds == (1...20).map { "E\($0)" })
        #expect(sink.duplicateCount == 0)
    }

    @Test func resumesInALaterPassWithThatPassesSuffix() throws {
        let (monitor, folder) = replay(Self.smallFeed, configure: { $0.speed = 0 })
        defer { folder.remove() }
        let sink = RecordingSink(cursors: ["replay": "1:5"])
        try monitor.run(sink: sink, status: StatusLog(), stopping: StopSignal())
        #expect(sink.messages.map(\.ref) == ["E2~L1", "E1~L1", "E2~L1"])
    }

    @Test func rejectionsAreReportedNotFatal() throws {
        let (monitor, folder) = replay(Self.smallFeed, configure: { $0.speed = 0 })
        defer { folder.remove() }
        let sink = RecordingSink(reject: { $0.ref == "E2" ? "price_off_grid" : nil })
        let status = StatusLog()
        try monitor.run(sink: sink, status: status, stopping: StopSignal())
        #expect(monitor.replayCounts.submissions.rejected == 2)
        #expect(status.all.last?.state == .running)
        #expect(status.all.last?.lastError == "rejected E2: rejected: price_off_grid")
    }

    @Test func theShippedSampleDayIsClean() throws {
        guard let data = FileManager.default.contents(atPath: "\(repositoryRoot)/tools/feeds/sample-day.ndjson") else {
            Issue.record("tools/feeds/sample-day.ndjson is missing"); return
        }
        let feed = RecordedFeed(text: String(decoding: data, as: UTF8.self))
        #expect(feed.badLines.isEmpty)
        #expect(feed.lines.count > 5000)
        var sods = 0, fills = 0, busts = 0, corrections = 0, marks = 0, orders = 0
        for line in feed.lines {
            switch line.message {
            case .sod: sods += 1
            case .fill: fills += 1
            case .bust: busts += 1
            case .correct: corrections += 1
            case .mark: marks += 1
            case .order: orders += 1
            }
        }
        #expect(sods > 0 && fills >= 2000 && busts == 1 && corrections == 1 && marks > 1000 && orders > 500)
        // SOD lines come first.
        #expect(feed.lines.prefix(sods).allSatisfy { if case .sod = $0.message { return true }; return false })
    }
}
