import TestSupport
import Bytes
import Foundation
import JSON
import Ledger
import Testing
import Wire
@testable import EventSources

/// The TT orders monitor against the loopback fake TT: an order's life (new → partial → replace
/// → cancel) becomes order messages each once, across restarts and failed commits; and the fill
/// poller's fills name their order, its trade cancels and corrections become busts and corrections.
@Suite(.serialized) struct TTOrdersMonitorTests {
    static let start: Int64 = 1_795_530_600_000_000_000   // 2026-11-24T14:30:00Z

    struct Rig {
        let tt: FakeTT
        let folder: TemporaryDirectory
        let clock: ManualClock
        var config: TTConfig

        func monitor() -> TTOrdersMonitor {
            TTOrdersMonitor(config: config, transport: URLSessionTransport(), clock: clock, catalogSymbols: [:], jitterSeed: 1)
        }

        func poller() -> TTFillPoller {
            TTFillPoller(config: config, transport: URLSessionTransport(), clock: clock, jitterSeed: 1)
        }

        func finish() { tt.stop(); folder.remove() }
    }

    func rig() throws -> Rig {
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
        config.accounts = ["12345": "ACC1"]
        config.instruments = ["INS1": TTInstrumentMapping(symbol: "ZNZ6"),
                              "INS2": TTInstrumentMapping(symbol: "ZBZ6", priceMultiplier: "0.01")]
        return Rig(tt: tt, folder: folder, clock: ManualClock(start: Self.start), config: config)
    }

    func orders(_ sink: RecordingSink) -> [OrderMessage] {
        sink.messages.compactMap { if case .order(let order) = $0 { return order }; return nil }
    }

    @Test func anOrdersLifeBecomesEachMessageOnceAcrossRestartsAndFailedCommits() throws {
        let rig = try rig(); defer { rig.finish() }
        let sink = RecordingSink()
        let stop = StopSignal()

        // New.
        rig.tt.setOrder("O1", qty: 5, leaves: 5, px: "110.25")
        rig.tt.setOrder("D1", qty: 1, leaves: 1, px: "110.25", status: FakeTT.Status.canceled)     // not working: ignored
        var summary = try rig.monitor().pollOnce(sink: sink, stopping: stop)
        #expect(summary.working == 1 && summary.new == 1)
        #expect(orders(sink) == [OrderMessage(action: .new, orderId: "O1", version: 1, account: "ACC1", instrument: "ZNZ6",
                                              side: "buy", qty: 5, price: "110.25")])
        // Nothing changed: nothing submitted.
        _ = try rig.monitor().pollOnce(sink: sink, stopping: stop)
        #expect(sink.submissions.count == 1)

        // A partial fill: leaves drop, the order is unchanged (the fill poller's fill names it).
        rig.tt.setOrder("O1", qty: 5, leaves: 3, px: "110.25", status: FakeTT.Status.partiallyFilled)
        _ = try rig.monitor().pollOnce(sink: sink, stopping: stop)
        #expect(sink.submissions.count == 1)

        // A replace: price and total, version 2.
        rig.tt.setOrder("O1", qty: 4, leaves: 2, px: "110.265625", status: FakeTT.Status.partiallyFilled)
        summary = try rig.monitor().pollOnce(sink: sink, stopping: stop)
        #expect(summary.replaced == 1)
        #expect(orders(sink).last == OrderMessage(action: .replace, orderId: "O1", version: 2, qty: 4, price: "110.265625"))

        // A restart (a new monitor on the same store) repeats nothing.
        _ = try rig.monitor().pollOnce(sink: sink, stopping: stop)
        #expect(sink.submissions.count == 2)

        // A cancel and a new order; the first commit fails, so the cursor stays and the retry sends the same.
        rig.tt.setOrder("O1", qty: 4, leaves: 0, filled: 2, px: "110.265625", status: FakeTT.Status.canceled)
        rig.tt.setOrder("O2", instrument: "INS2", side: "2", qty: 3, leaves: 3, px: "11803.125")
        sink.failNextCommits(1)
        #expect(throws: TTError.self) { _ = try rig.monitor().pollOnce(sink: sink, stopping: stop) }
        #expect(sink.submissions.count == 2 && sink.failedSubmissions == 1)
        _ = try rig.monitor().pollOnce(sink: sink, stopping: stop)
        let afterRetry = orders(sink)
        #expect(afterRetry.suffix(2) == [
            OrderMessage(action: .new, orderId: "O2", version: 1, account: "ACC1", instrument: "ZBZ6", side: "sell", qty: 3, price: "118.03125"),
            OrderMessage(action: .cancel, orderId: "O1", version: 3),
        ])
        _ = try rig.monitor().pollOnce(sink: sink, stopping: stop)
        #expect(orders(sink) == afterRetry)

        // Filled: no message (its fills end it), and it leaves the stored set. Rejected: a reject.
        rig.tt.setOrder("O2", instrument: "INS2", side: "2", qty: 3, leaves: 0, px: "11803.125", status: FakeTT.Status.filled)
        rig.tt.setOrder("O3", qty: 1, leaves: 1, px: "110.25")
        _ = try rig.monitor().pollOnce(sink: sink, stopping: stop)
        rig.tt.setOrder("O3", qty: 1, leaves: 1, px: "110.25", status: FakeTT.Status.rejected)
        _ = try rig.monitor().pollOnce(sink: sink, stopping: stop)
        #expect(orders(sink).suffix(2) == [
            OrderMessage(action: .new, orderId: "O3", version: 1, account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 1, price: "110.25"),
            OrderMessage(action: .reject, orderId: "O3", version: 2),
        ])
        #expect(try TTOrdersMonitor.decode(cursor: sink.cursor(named: "ttorders")).isEmpty)
        // Every request carried the key and a token.
        #expect(rig.tt.orderRequests.allSatisfy { $0.headers["x-api-key"] == "app-key" && $0.headers["authorization"] == "Bearer T1" })
    }

    @Test func failuresAreTransientAndMoveNothing() throws {
        let rig = try rig(); defer { rig.finish() }
        let sink = RecordingSink()
        rig.tt.setOrder("O1", qty: 5, leaves: 5, px: "110.25")
        rig.tt.update { $0.faults = [.status(503, retryAfter: "7"), .malformed] }
        let unavailable = #expect(throws: TTError.self) { _ = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal()) }
        #expect(unavailable?.isTransient == true && unavailable?.retryAfterSeconds == 7)
        let malformed = #expect(throws: TTError.self) { _ = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal()) }
        #expect(malformed?.isTransient == true)
        #expect(sink.submissions.isEmpty && sink.cursor(named: "ttorders") == nil)
        // A revoked token is refreshed once and the request retried.
        _ = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal())
        rig.tt.revokeTokens()
        rig.tt.setOrder("O1", qty: 6, leaves: 6, px: "110.25")
        _ = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal())
        #expect(orders(sink).map(\.action) == [.new, .replace])
        #expect(rig.tt.tokenRequests.count == 2)
    }

    @Test func theRunLoopIsDegradedWhileTTFailsAndRunningAfter() throws {
        let rig = try rig(); defer { rig.finish() }
        rig.tt.setOrder("O1", qty: 5, leaves: 5, px: "110.25")
        rig.tt.update { $0.faults = [.status(500)] }
        let stopping = StopSignal()
        let log = StatusLog()
        let sink = RecordingSink(onSubmit: { _ in stopping.stop() })
        try rig.monitor().run(sink: sink, status: log, stopping: stopping)
        #expect(log.states(of: "ttorders").prefix(2) == [.degraded, .running])
        #expect(orders(sink).count == 1)
    }

    @Test func fillsNameTheirOrderAndTradeCancelsAndCorrectionsBecomeBustsAndCorrections() throws {
        let rig = try rig(); defer { rig.finish() }
        let at = Self.start - 10 * second
        rig.tt.addFill(timeStamp: at, execId: "U1", extra: #","orderId":"O1","execType":"F""#)
        rig.tt.addFill(timeStamp: at + 1, execId: "U2")
        // The cancel of U1 on the same page as U1 itself: both are sent, in order.
        rig.tt.addFill(timeStamp: at + 2, execId: "U3", extra: #","execType":"H","refUniqueExecId":"U1""#)
        rig.tt.addFill(timeStamp: at + 3, execId: "U4", qty: "3", px: "110.28125", extra: #","execType":"G","execRefId":"U2""#)
        rig.tt.addFill(timeStamp: at + 4, execId: "U5", extra: #","execType":"H""#)
        let sink = RecordingSink()
        let summary = try rig.poller().pollOnce(sink: sink, stopping: StopSignal())
        #expect(sink.messages == [
            .fill(execId: "U1", account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 2, price: "110.265625",
                  time: isoString(at - 5_000_000), orderId: "O1"),
            .fill(execId: "U2", account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 2, price: "110.265625",
                  time: isoString(at + 1 - 5_000_000)),
            .bust(execId: "U1"),
            .correct(execId: "U2", qty: 3, price: "110.28125"),
        ])
        #expect(summary.skipped == ["trade cancel U5 names no execution (refUniqueExecId or execRefId)"])
    }
}

/// TT's own `executionType` numbering (14 Trade, 15 TradeCorrect, 16 TradeCancel) marks busts
/// and corrections as FIX's `execType` letters do.
@Suite struct TTExecutionTypeTests {
    @Test func ttsNumberedTradeCancelAndCorrectionBecomeABustAndACorrection() throws {
        var config = TTConfig()
        config.accounts = ["12345": "ACC1"]
        config.instruments = ["INS1": TTInstrumentMapping(symbol: "ZNZ6")]
        func mapped(_ json: String) throws -> ProducerMessage? {
            try? TTFillMapping.message(from: JSONValue.parse(json), timeStamp: 1, config: config, catalogSymbols: [:]).get()
        }
        let record = #""uniqueExecId":"U9","accountId":12345,"instrumentId":"INS1","side":"1","lastQty":3.0,"lastPx":110.28125"#
        #expect(try mapped("{\(record),\"executionType\":\"16\",\"refUniqueExecId\":\"U1\"}") == .bust(execId: "U1"))
        #expect(try mapped("{\(record),\"executionType\":\"15\",\"execRefId\":\"U2\"}") == .correct(execId: "U2", qty: 3, price: "110.28125"))
        #expect(try mapped("{\(record),\"executionType\":\"14\",\"orderId\":\"O1\"}") ==
                .fill(execId: "U9", account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 3, price: "110.28125",
                      time: isoString(1), orderId: "O1"))
    }
}

/// A ledger for the reconciliation monitor: positions set by the test.
final class FixedPositions: PositionReader, @unchecked Sendable {
    // Safety: written by the test between polls only.
    var lines: [PositionLine] = []
    func committedPositions() -> [PositionLine] { lines }
}

@Suite(.serialized) struct TTPositionMonitorTests {
    func rig() throws -> (FakeTT, TemporaryDirectory, TTConfig) {
        let tt = try FakeTT()
        let folder = TemporaryDirectory()
        var config = TTConfig()
        config.baseURL = tt.server.baseURL
        config.environment = "ext_uat_cert"
        config.appKey = Secret("app-key")
        config.appSecret = Secret("app-secret")
        config.tokenFile = folder.file("tt-token.json")
        config.requestsPerSecond = 25
        config.requestTimeoutSeconds = 5
        config.accounts = ["12345": "ACC1", "777": "ACC2"]
        config.instruments = ["INS1": TTInstrumentMapping(symbol: "ZNZ6"), "INS2": TTInstrumentMapping(symbol: "ZBZ6")]
        return (tt, folder, config)
    }

    @Test func matchesBreaksWithBothSidesAndStaleWhenTTIsGone() throws {
        let (tt, folder, config) = try rig(); defer { tt.stop(); folder.remove() }
        let ledger = FixedPositions()
        ledger.lines = [PositionLine(account: "ACC1", instrument: "ZNZ6", sodQty: 2, bought: 5, sold: 4, net: 3),
                        PositionLine(account: "ACC2", instrument: "ZBZ6", bought: 1, net: 1),
                        PositionLine(account: "OTHER", instrument: "ZNZ6", bought: 9, net: 9)]   // not a TT account
        tt.setPositions([("12345", "INS1", 3, 5, 4, 2), ("777", "INS2", 1, 1, 0, 0)])
        let monitor = TTPositionMonitor(config: config, transport: URLSessionTransport(), clock: ManualClock(start: 0), jitterSeed: 1)
        let matched = try monitor.reconcile(ledger: ledger, stopping: StopSignal())
        #expect(matched.map(\.state) == [.match, .match])
        #expect(matched.map(\.account) == ["ACC1", "ACC2"])

        // A break injected at TT: both sides and the difference; a TT-only line breaks too.
        tt.setPositions([("12345", "INS1", 5, 7, 4, 2), ("777", "INS2", 1, 1, 0, 0), ("777", "INS1", -2, 0, 2, 0)])
        let broken = try monitor.reconcile(ledger: ledger, stopping: StopSignal())
        #expect(broken.map { "\($0.account)/\($0.instrument) \($0.state) \($0.difference)" } ==
                ["ACC1/ZNZ6 break -2", "ACC2/ZBZ6 match 0", "ACC2/ZNZ6 break 2"])
        #expect(broken[0].ledger == ReconLine.Side(net: 3, bought: 5, sold: 4, sod: 2))
        #expect(broken[0].external == ReconLine.Side(net: 5, bought: 7, sold: 4, sod: 2))

        // The run loop reports the lines as its status; when TT fails they turn stale (degraded).
        let stopping = StopSignal()
        let log = StatusLog()
        // After the first poll's pause (pollSeconds), TT fails; the degraded report ends the run.
        let clock = ManualClock(start: 0, afterSleep: { _, nanoseconds in
            if nanoseconds == Int64(config.pollSeconds) * second { tt.update { $0.faults = [.status(500)] } }
            if log.states(of: "ttrecon").contains(.degraded) { stopping.stop() }
        })
        let running = TTPositionMonitor(config: config, transport: URLSessionTransport(), clock: clock, positions: ledger, jitterSeed: 1)
        try running.run(sink: RecordingSink(), status: log, stopping: stopping)
        let reports = log.all.filter { $0.name == "ttrecon" }
        #expect(reports.map(\.state) == [.running, .degraded])
        #expect(reports[0].recon?.filter { $0.state == .break }.count == 2)
        #expect(reports[0].lastError == "2 break(s), first ACC1/ZNZ6: ledger 3, TT 5")
        #expect(reports[1].recon?.allSatisfy { $0.state == .stale } == true && reports[1].recon?.count == 3)
    }

    @Test func seedSODSendsTTsStartOfDayOnlyForBooksThatHaveNotTraded() throws {
        var (tt, folder, config) = try rig(); defer { tt.stop(); folder.remove() }
        let ledger = FixedPositions()
        let sodPrice = Price(units: 11_050_000_000)
        ledger.lines = [PositionLine(account: "ACC1", instrument: "ZNZ6", sodQty: 2, sodPrice: sodPrice, net: 2),
                        PositionLine(account: "ACC2", instrument: "ZBZ6", sodQty: 1, sodPrice: sodPrice, bought: 1, net: 2)]
        tt.setPositions([("12345", "INS1", 5, 0, 0, 5), ("777", "INS2", 4, 1, 0, 3)])
        for seeding in [false, true] {
            config.seedSOD = seeding
            let stopping = StopSignal()
            let sink = RecordingSink()
            let log = StatusLog()
            let clock = ManualClock(start: 0, afterSleep: { _, _ in if !log.all.isEmpty { stopping.stop() } })
            let monitor = TTPositionMonitor(config: config, transport: URLSessionTransport(), clock: clock, positions: ledger, jitterSeed: 1)
            try monitor.run(sink: sink, status: log, stopping: stopping)
            // ACC2 traded today: its SOD break stays a break for a person; ACC1 takes TT's SOD.
            #expect(sink.messages == (seeding ? [.sod(account: "ACC1", instrument: "ZNZ6", qty: 5, price: "110.5")] : []))
            #expect(sink.submissions.allSatisfy { $0.source == "ttrecon" })
        }
    }
}
