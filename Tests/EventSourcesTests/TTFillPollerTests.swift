import TestSupport
import Bytes
import Foundation
import Ledger
import Testing
@testable import EventSources

@Suite(.serialized) struct TTFillPollerTests {
    static let start: Int64 = 1_795_530_600_000_000_000   // 2026-11-24T14:30:00Z

    struct Rig {
        let tt: FakeTT
        let folder: TemporaryDirectory
        let clock: ManualClock
        var config: TTConfig

        func poller(name: String = "tt") -> TTFillPoller {
            TTFillPoller(config: config, name: name, transport: URLSessionTransport(), clock: clock,
                         catalogSymbols: ["CAT9": "ZFZ6"], jitterSeed: 1)
        }

        func finish() { tt.stop(); folder.remove() }
    }

    func rig(clock: ManualClock = ManualClock(start: start)) throws -> Rig {
        let tt = try FakeTT()
        let folder = TemporaryDirectory()
        var config = TTConfig()
        config.baseURL = tt.server.baseURL
        config.environment = "ext_uat_cert"
        config.appName = "ladderwire"
        config.company = "acme"
        config.appKey = Secret("app-key")
        config.appSecret = Secret("app-secret")
        config.tokenFile = folder.file("tt-token.json")
        config.requestsPerSecond = 25
        config.requestTimeoutSeconds = 5
        config.pollSeconds = 5
        config.accounts = ["12345": "ACC1"]
        config.instruments = ["INS1": TTInstrumentMapping(symbol: "ZNZ6"),
                              "INS2": TTInstrumentMapping(symbol: "ZBZ6", priceMultiplier: "0.01")]
        return Rig(tt: tt, folder: folder, clock: clock, config: config)
    }

    func addFills(_ tt: FakeTT, _ range: ClosedRange<Int>) {
        for n in range { tt.addFill(timeStamp: Self.start - 100 * second + Int64(n) * millisecond, execId: "U\(n)") }
    }

    @Test func pagesThroughEveryFillMapsThemAndStoresTheCursor() throws {
        let rig = try rig(); defer { rig.finish() }
        addFills(rig.tt, 1...7)
        rig.tt.addFill(timeStamp: Self.start - 50 * second, execId: "U8", account: "\"99\"", instrument: "INS2",
                       side: "2", qty: "\"4\"", px: "11026.5625")
        let sink = RecordingSink()
        let summary = try rig.poller().pollOnce(sink: sink, stopping: StopSignal())

        #expect(sink.ackedFillIds == (1...8).map { "U\($0)" })
        // Pages of 3, 3, 2, then an empty page ends the window ("lastPage":"true" every time is ignored).
        #expect(rig.tt.fillRequests.count == 4)
        #expect(summary.fillsSubmitted == 8 && summary.pages == 4)
        let requests = rig.tt.fillRequests
        #expect(requests[0].query["minTimestamp"] == String(Self.start - 3600 * second + 1))
        #expect(requests[0].query["maxTimestamp"].flatMap { Int64($0) }.map { $0 >= Self.start } == true)
        #expect(requests[1].query["minTimestamp"] == String(Self.start - 100 * second + 3 * millisecond + 1))
        for request in rig.tt.server.requests {
            #expect(request.headers["x-api-key"] == "app-key")
            let requestId = request.query["requestId"] ?? ""
            #expect(requestId.hasPrefix("ladderwire-acme--") && requestId.count == "ladderwire-acme--".count + 36)
        }
        #expect(requests.allSatisfy { $0.headers["authorization"] == "Bearer T1" })
        #expect(rig.tt.tokenRequests.count == 1)
        #expect(rig.tt.tokenRequests[0].headers["content-type"] == "application/x-www-form-urlencoded")

        #expect(sink.fills[0] == .fill(execId: "U1", account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 2,
                                       price: "110.265625", time: isoString(Self.start - 100 * second + millisecond - 5 * millisecond)))
        #expect(sink.fills[7] == .fill(execId: "U8", account: "99", instrument: "ZBZ6", side: "sell", qty: 4,
                                       price: "110.265625", time: isoString(Self.start - 50 * second - 5 * millisecond)))
        // The cursor (last timeStamp) travels with the page that reached it.
        #expect(sink.submissions.map(\.cursor) == [Self.start - 100 * second + 3 * millisecond,
                                                   Self.start - 100 * second + 6 * millisecond,
                                                   Self.start - 50 * second].map { String($0) })
        #expect(sink.cursor(named: "tt") == String(Self.start - 50 * second))
    }

    @Test func tokenIsCachedInAPrivateFileAndRefreshedAheadOfExpiry() throws {
        let rig = try rig(); defer { rig.finish() }
        rig.tt.update { $0.tokenLifetimeSeconds = 700 }   // buffer 600 s: fresh for 100 s
        let poller = rig.poller()
        let stopping = StopSignal()
        #expect(try poller.tokens.bearer(stopping: stopping) == "T1")
        #expect(try poller.tokens.bearer(stopping: stopping) == "T1")
        var info = stat()
        #expect(stat(rig.config.effectiveTokenFile, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let stored = try String(contentsOfFile: rig.config.effectiveTokenFile, encoding: .utf8)
        #expect(stored.contains("\"T1\"") && !stored.contains("app-secret"))

        // A restarted process reuses the stored token.
        let restarted = rig.poller()
        #expect(try restarted.tokens.bearer(stopping: stopping) == "T1")
        #expect(rig.tt.tokenRequests.count == 1)

        rig.clock.advance(by: 101 * second)
        #expect(try poller.tokens.bearer(stopping: stopping) == "T2")
        #expect(rig.tt.tokenRequests.count == 2)
    }

    @Test func aTokenFileOthersCanReadIsRefused() throws {
        let rig = try rig(); defer { rig.finish() }
        rig.folder.write("tt-token.json", #"{"environment":"ext_uat_cert","access_token":"old","expires_at_ns":9999999999999999999}"#, mode: 0o644)
        do {
            _ = try rig.poller().pollOnce(sink: RecordingSink(), stopping: StopSignal())
            Issue.record("expected an error")
        } catch {
            guard case .tokenFile(let detail) = error else { Issue.record("unexpected \(error)"); return }
            #expect(detail.contains("readable by group or others (mode 644)"))
        }
        #expect(rig.tt.server.requests.isEmpty)
    }

    @Test func a401GetsExactlyOneRefreshAndOneRetry() throws {
        let rig = try rig(); defer { rig.finish() }
        addFills(rig.tt, 1...2)
        let poller = rig.poller()
        let stopping = StopSignal()
        #expect(try poller.tokens.bearer(stopping: stopping) == "T1")
        rig.tt.revokeTokens()   // e.g. revoked on TT's side before expiry
        let sink = RecordingSink()
        _ = try poller.pollOnce(sink: sink, stopping: stopping)
        #expect(sink.ackedFillIds == ["U1", "U2"])
        #expect(rig.tt.tokenRequests.count == 2)
        #expect(rig.tt.fillRequests.map { $0.headers["authorization"] } == ["Bearer T1", "Bearer T2", "Bearer T2"])

        // Still 401 with a fresh token: one refresh, one retry, then an error (not a loop).
        rig.tt.update { $0.refuseAllTokens = true }
        #expect(throws: TTError.unauthorized("fills request still 401 with a new token")) {
            try poller.pollOnce(sink: sink, stopping: stopping)
        }
        #expect(rig.tt.tokenRequests.count == 3)
    }

    @Test func a408HalvesTheWindowUntilItFits() throws {
        let rig = try rig(); defer { rig.finish() }
        addFills(rig.tt, 1...4)
        rig.tt.update { $0.maxWindow = 1000 * second }   // the first window is 3600 s
        let sink = RecordingSink()
        let summary = try rig.poller().pollOnce(sink: sink, stopping: StopSignal())
        #expect(sink.ackedFillIds == ["U1", "U2", "U3", "U4"])
        #expect(summary.narrowed == 2)   // 3600 → 1800 → 900 s
        let windows = rig.tt.fillRequests.compactMap { request -> Int64? in
            guard let low = request.query["minTimestamp"].flatMap({ Int64($0) }),
                  let high = request.query["maxTimestamp"].flatMap({ Int64($0) }) else { return nil }
            return high - low
        }
        #expect(windows[0] > 1800 * second && windows[1] > 900 * second && windows[1] <= 1800 * second)
        #expect(windows.dropFirst(2).allSatisfy { $0 <= 1000 * second })
    }

    @Test func duplicatesAcrossPagesAreSubmittedOnce() throws {
        let rig = try rig(); defer { rig.finish() }
        rig.tt.update { $0.pageSize = 2 }
        addFills(rig.tt, 1...3)
        // TT repeats U2 later (a re-sent fill): same unique id, a later timeStamp, on another page.
        rig.tt.addFill(timeStamp: Self.start - 90 * second, execId: "U2")
        rig.tt.addFill(timeStamp: Self.start - 90 * second, execId: "U2")   // and twice on one page
        let sink = RecordingSink()
        _ = try rig.poller().pollOnce(sink: sink, stopping: StopSignal())
        #expect(sink.ackedFillIds == ["U1", "U2", "U3"])
        #expect(sink.duplicateCount == 1)   // the second page's U2, answered `duplicate` by the store
        #expect(Set(sink.ackedFillIds).count == sink.ackedFillIds.count)
    }

    @Test func noFillIsLostOrRepeatedAcrossARestart() throws {
        let rig = try rig(); defer { rig.finish() }
        addFills(rig.tt, 1...5)
        let sink = RecordingSink()
        _ = try rig.poller().pollOnce(sink: sink, stopping: StopSignal())
        let cursor = try #require(sink.cursor(named: "tt").flatMap { Int64($0) })

        // More fills arrive while the process is down; the new process starts from the stored cursor.
        rig.clock.advance(by: 30 * second)
        addFills(rig.tt, 6...9)
        let before = rig.tt.fillRequests.count
        _ = try rig.poller().pollOnce(sink: sink, stopping: StopSignal())
        #expect(rig.tt.fillRequests[before].query["minTimestamp"] == String(cursor + 1))
        #expect(sink.ackedFillIds == (1...9).map { "U\($0)" })
        #expect(sink.duplicateCount == 0)
    }

    /// A page the server could not store leaves the cursor where it was: the poll fails as
    /// transient (`degraded`), and the next poll asks TT for the same window again.
    @Test func aPageThatWasNotStoredIsAskedForAgain() throws {
        let rig = try rig(); defer { rig.finish() }
        addFills(rig.tt, 1...5)
        let sink = RecordingSink()
        sink.failNextCommits(1)
        do {
            _ = try rig.poller().pollOnce(sink: sink, stopping: StopSignal())
            Issue.record("expected a storage error")
        } catch {
            guard case .storage = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.isTransient)
        }
        #expect(sink.cursor(named: "tt") == nil)
        let before = rig.tt.fillRequests.count
        _ = try rig.poller().pollOnce(sink: sink, stopping: StopSignal())
        // Not from after the refused page: from the start of the lookback again.
        let again = try #require(rig.tt.fillRequests[before].query["minTimestamp"].flatMap { Int64($0) })
        #expect(again <= Self.start - 100 * second + millisecond)
        #expect(sink.ackedFillIds == (1...5).map { "U\($0)" })
        #expect(sink.duplicateCount == 0)
    }

    /// Numbers from outside that used to overflow: a Retry-After of 10^18 seconds, a token
    /// lifetime of 10^17 seconds, a fill timeStamp of Int64.max.
    @Test func hostileNumbersFromTTAreCappedOrSkippedNotATrap() throws {
        let stopping = StopSignal()
        let clock = ManualClock(start: Self.start, afterSleep: { _, nanoseconds in
            if nanoseconds == 5 * second { stopping.stop() }   // the regular poll pause
        })
        var rig = try rig(clock: clock); defer { rig.finish() }
        rig.config.lookbackSeconds = 3 * 3600   // the fills are still in reach after the hour's wait
        rig.tt.update {
            $0.faults = [.status(429, retryAfter: "1000000000000000000")]
            $0.tokenLifetimeSeconds = 100_000_000_000_000_000
        }
        addFills(rig.tt, 1...2)
        rig.tt.addFill(timeStamp: Int64.max, execId: "FAR")
        let sink = RecordingSink()
        try rig.poller().run(sink: sink, status: StatusLog(), stopping: stopping)
        #expect(clock.sleeps.contains(3600 * second))   // Retry-After capped at an hour
        #expect(sink.ackedFillIds == ["U1", "U2"])
        #expect(sink.cursor(named: "tt").flatMap { Int64($0) }.map { $0 < Int64.max } == true)
    }

    @Test func runBacksOffOn429And500AndMalformedRepliesThenRecovers() throws {
        let stopping = StopSignal()
        // Stop at the first regular poll pause (5 s): by then the poll after the faults succeeded.
        let clock = ManualClock(start: Self.start, afterSleep: { _, nanoseconds in
            if nanoseconds == 5 * second { stopping.stop() }
        })
        let rig = try rig(clock: clock); defer { rig.finish() }
        addFills(rig.tt, 1...2)
        rig.tt.update {
            $0.faults = [.status(429, retryAfter: "7"), .status(500), .status(503), .malformed]
        }
        let sink = RecordingSink()
        let status = StatusLog()
        try rig.poller().run(sink: sink, status: status, stopping: stopping)

        #expect(sink.ackedFillIds == ["U1", "U2"])
        #expect(status.states(of: "tt") == [.degraded, .degraded, .degraded, .degraded, .running])
        let errors = status.all.compactMap(\.lastError)
        #expect(errors[0].hasPrefix("TT answered HTTP 429 (retry after 7 s)"))
        #expect(errors[1].hasPrefix("TT answered HTTP 500"))
        #expect(errors[3].hasPrefix("TT reply malformed"))
        #expect(status.all.last?.lastSuccess != nil && status.all.last?.lastError == nil)
        // Waits other than the rate limiter's 40 ms: Retry-After, then jittered doubling backoff
        // counted over the consecutive failures (the 429 was the first).
        let waits = clock.sleeps.filter { $0 > 40 * millisecond }
        #expect(waits.count == 5)
        #expect(waits[0] == 7 * second)
        #expect(waits[1] >= 500 * millisecond && waits[1] <= 1 * second)
        #expect(waits[2] >= 1 * second && waits[2] <= 2 * second)
        #expect(waits[3] >= 2 * second && waits[3] <= 4 * second)
        #expect(waits[4] == 5 * second)
    }

    @Test func networkErrorsAreTransient() throws {
        var config = TTConfig()
        config.baseURL = "http://127.0.0.1:1"   // nothing listens on port 1
        config.appKey = Secret("k")
        config.appSecret = Secret("s")
        let folder = TemporaryDirectory(); defer { folder.remove() }
        config.tokenFile = folder.file("token.json")
        config.requestTimeoutSeconds = 5
        let poller = TTFillPoller(config: config, clock: ManualClock(start: Self.start))
        do {
            _ = try poller.pollOnce(sink: RecordingSink(), stopping: StopSignal())
            Issue.record("expected an error")
        } catch {
            guard case .network = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.isTransient)
        }
    }

    @Test func missingCredentialsAreAConfigurationError() {
        var config = TTConfig()
        config.baseURL = "http://127.0.0.1:1"
        let poller = TTFillPoller(config: config, clock: ManualClock(start: Self.start))
        #expect(throws: TTError.self) { try poller.run(sink: RecordingSink(), status: StatusLog(), stopping: StopSignal()) }
    }

    @Test func fillMappingReadsExactTextAndReportsWhatItSkips() throws {
        var config = TTConfig()
        config.instruments = ["7": TTInstrumentMapping(symbol: "ZTZ6", priceMultiplier: "0.00390625")]
        let body = #"""
            {"fills":[
              {"timeStamp":100,"uniqueExecId":"A","accountId":1,"instrumentId":7,"side":1,"lastQty":3.0,"lastPx":26354,"transactTime":"1795530600123456789"},
              {"timeStamp":101,"execId":"B","accountId":"2","instrumentId":"CAT9","side":"2","lastQty":1,"lastPx":"107.5078125"},
              {"timeStamp":102,"uniqueExecId":"C","accountId":"2","instrumentId":"X","side":"5","lastQty":1,"lastPx":1},
              {"timeStamp":103,"uniqueExecId":"D","accountId":"2","instrumentId":"X","side":"1","lastQty":0,"lastPx":1},
              {"uniqueExecId":"E"}
            ]}
            """#
        let page = try TTFillMapping.page(from: body, config: config, catalogSymbols: ["CAT9": "ZFZ6"])
        #expect(page.fills.map(\.message) == [
            .fill(execId: "A", account: "1", instrument: "ZTZ6", side: "buy", qty: 3, price: "102.9453125", time: "2026-11-24T14:30:00.123Z"),
            .fill(execId: "B", account: "2", instrument: "ZFZ6", side: "sell", qty: 1, price: "107.5078125",
                  time: isoString(101)),
        ])
        #expect(page.skipped.count == 3)
        #expect(page.skipped[0] == "fill C has side 5 (expected \"1\" buy or \"2\" sell)")
        #expect(page.lastTimeStamp == 103)
        #expect(throws: TTError.self) { try TTFillMapping.page(from: "[", config: config, catalogSymbols: [:]) }
        #expect(throws: TTError.self) { try TTFillMapping.page(from: #"{"fills": 3}"#, config: config, catalogSymbols: [:]) }
    }

    @Test func fillPricesKeepTheirExactTextInEveryNumberForm() throws {
        var config = TTConfig()
        config.instruments = ["9": TTInstrumentMapping(symbol: "ZNZ6", priceMultiplier: "0.01")]
        let body = #"""
            [{"timeStamp":1,"uniqueExecId":"A","accountId":"1","instrumentId":"ZN","side":"1","lastQty":1,"lastPx":1.10265625e2},
             {"timeStamp":2,"uniqueExecId":"B","accountId":"1","instrumentId":"ZN","side":"1","lastQty":1,"lastPx":110.2656250000000001},
             {"timeStamp":3,"uniqueExecId":"C","accountId":"1","instrumentId":"9","side":"1","lastQty":1,"lastPx":11026.5625},
             {"timeStamp":4,"uniqueExecId":"D","accountId":"1","instrumentId":"ZN","side":"1","lastQty":1e0,"lastPx":-0.5}]
            """#
        let page = try TTFillMapping.page(from: body, config: config, catalogSymbols: [:])
        // Through Double, B would read as 110.265625 and C times 0.01 as 110.26562500000001.
        #expect(page.fills.map { if case .fill(_, _, _, _, _, let price, _, _) = $0.message { return price }; return "" }
                == ["110.265625", "110.2656250000000001", "110.265625", "-0.5"])
        #expect(page.skipped.isEmpty)
    }

    @Test func tokenBucketSpacesRequests() {
        let clock = ManualClock(start: Self.start)
        let bucket = TokenBucket(ratePerSecond: 4, burst: 1, clock: clock)
        let stopping = StopSignal()
        for _ in 0..<4 { #expect(bucket.acquire(stopping: stopping)) }
        #expect(clock.sleeps == [250 * millisecond, 250 * millisecond, 250 * millisecond])
        clock.advance(by: 10 * second)   // idle time refills only up to the burst
        #expect(bucket.acquire(stopping: stopping))
        #expect(bucket.acquire(stopping: stopping))
        #expect(clock.sleeps.count == 4)
    }
}

@Suite struct TTCursorTests {
    @Test func aStoredCursorThatIsNotATimestampIsReported() {
        var config = TTConfig()
        config.baseURL = "http://127.0.0.1:1"
        let poller = TTFillPoller(config: config, clock: ManualClock())
        #expect(throws: TTError.notConfigured("stored cursor 'abc' is not a TT timeStamp")) {
            try poller.pollOnce(sink: RecordingSink(cursors: ["tt": "abc"]), stopping: StopSignal())
        }
    }
}
