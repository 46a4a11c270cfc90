import TestSupport
import Foundation
import JSON
import Testing
import Wire
@testable import EventSources

/// The TT orders monitor reads every page of `GET /ttledger/{env}/orders` before it diffs: a
/// working set split over pages gives each change once; a page that fails, or paging that cannot
/// be followed to its end, submits nothing and moves no cursor (a working set missing a page
/// would cancel every order on it); a 401 on a later page refreshes the token and goes on. An
/// order missing from a multi-page read is cancelled only when the next complete poll misses it too.
@Suite(.serialized) struct TTOrdersPagingTests {
    static let start: Int64 = 1_795_530_600_000_000_000   // 2026-11-24T14:30:00Z

    struct Rig {
        let tt: FakeTT
        let folder: TemporaryDirectory
        var config: TTConfig

        func monitor(maxPagesPerPoll: Int = TTOrdersMonitor.defaultMaxPagesPerPoll) -> TTOrdersMonitor {
            TTOrdersMonitor(config: config, transport: URLSessionTransport(), clock: ManualClock(start: TTOrdersPagingTests.start),
                            jitterSeed: 1, maxPagesPerPoll: maxPagesPerPoll)
        }

        func finish() { tt.stop(); folder.remove() }
    }

    /// A fake TT listing `pageSize` orders a page (nil: all on one page).
    func rig(pageSize: Int?) throws -> Rig {
        let tt = try FakeTT()
        tt.update { $0.orderPageSize = pageSize }
        let folder = TemporaryDirectory()
        var config = TTConfig()
        config.baseURL = tt.server.baseURL
        config.environment = "ext_uat_cert"
        config.appKey = Secret("app-key")
        config.appSecret = Secret("app-secret")
        config.tokenFile = folder.file("tt-token.json")
        config.requestsPerSecond = 25
        config.requestTimeoutSeconds = 5
        config.accounts = ["12345": "ACC1"]
        config.instruments = ["INS1": TTInstrumentMapping(symbol: "ZNZ6")]
        return Rig(tt: tt, folder: folder, config: config)
    }

    func orders(_ sink: RecordingSink) -> [OrderMessage] {
        sink.messages.compactMap { if case .order(let order) = $0 { return order }; return nil }
    }

    func newOrder(_ id: String, qty: Int64, price: String) -> OrderMessage {
        OrderMessage(action: .new, orderId: id, version: 1, account: "ACC1", instrument: "ZNZ6", side: "buy", qty: qty, price: price)
    }

    /// O1…O4 working, stored by a first poll (two pages of two).
    func storeFourOrders(_ rig: Rig, _ sink: RecordingSink) throws {
        for (index, id) in ["O1", "O2", "O3", "O4"].enumerated() {
            rig.tt.setOrder(id, qty: Int64(index + 1), leaves: Int64(index + 1), px: "110.25")
        }
        let summary = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.pages == 2 && summary.new == 4)
        #expect(sink.submissions.count == 1)
    }

    @Test func aWorkingSetOverSeveralPagesGivesEachNewReplaceAndCancelOnce() throws {
        let rig = try rig(pageSize: 2); defer { rig.finish() }
        let sink = RecordingSink()
        for id in ["O1", "O2", "O3", "O4", "O5"] { rig.tt.setOrder(id, qty: 5, leaves: 5, px: "110.25") }
        var summary = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal())
        // Three pages, each after the first asked for with the key the one before gave; every page
        // says lastPage "true", which does not end the read while a key comes with it.
        #expect(summary.pages == 3 && summary.working == 5)
        #expect(rig.tt.orderRequests.map { $0.query["nextPageKey"] } == [nil, "O2", "O4"])
        #expect(orders(sink) == ["O1", "O2", "O3", "O4", "O5"].map { newOrder($0, qty: 5, price: "110.25") })
        #expect(sink.submissions.count == 1)

        // A change on each page: O2 replaced (page 1), O4 cancelled (page 2), O6 new (page 3).
        rig.tt.setOrder("O2", qty: 7, leaves: 7, px: "110.265625")
        rig.tt.setOrder("O4", qty: 5, leaves: 0, filled: 0, px: "110.25", status: FakeTT.Status.canceled)
        rig.tt.setOrder("O6", qty: 1, leaves: 1, px: "110.28125")
        summary = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.pages == 3 && summary.working == 5)
        #expect(sink.submissions.count == 2)
        #expect(sink.submissions.last?.messages.compactMap { if case .order(let order) = $0 { return order }; return nil } == [
            OrderMessage(action: .replace, orderId: "O2", version: 2, qty: 7, price: "110.265625"),
            newOrder("O6", qty: 1, price: "110.28125"),
            OrderMessage(action: .cancel, orderId: "O4", version: 2),
        ])

        // Read again (and by a restarted monitor): nothing changed, nothing sent.
        _ = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal())
        #expect(sink.submissions.count == 2)
    }

    /// The ways a second page fails. Each fails the whole poll, as transient; nothing is
    /// submitted and the stored set stays, so the next poll sends each change once.
    static let secondPageFailures: [(name: String, fault: FakeTT.Fault)] = [
        ("500", .status(500)),
        ("429", .status(429, retryAfter: "3")),
        ("timeout", .delay(seconds: 2)),
        ("malformed JSON", .malformed),
    ]

    @Test(arguments: secondPageFailures.indices)
    func aFailureOnPage2SubmitsNothingAndTheNextPollRecovers(failure: Int) throws {
        let (name, fault) = Self.secondPageFailures[failure]
        var rig = try rig(pageSize: 2); defer { rig.finish() }
        let sink = RecordingSink()
        try storeFourOrders(rig, sink)
        let stored = sink.cursor(named: "ttorders")

        // O1 replaced (page 1), O4 cancelled, O5 new: pages [O1, O2], [O3, O4], [O5]. Page 1
        // diffed alone would cancel O3, which is still working. (O4 is listed as cancelled: an
        // order merely absent from a multi-page read would wait for a second poll.)
        rig.tt.setOrder("O1", qty: 9, leaves: 9, px: "110.25")
        rig.tt.setOrder("O4", qty: 4, leaves: 0, filled: 0, px: "110.25", status: FakeTT.Status.canceled)
        rig.tt.setOrder("O5", qty: 2, leaves: 2, px: "110.25")
        rig.tt.update { $0.orderPageFaults = [(page: 2, fault: fault)] }
        if case .delay = fault { rig.config.requestTimeoutSeconds = 1 }
        let requestsBefore = rig.tt.orderRequests.count
        let error = #expect(throws: TTError.self, "page 2 \(name)") { _ = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal()) }
        #expect(error?.isTransient == true, "page 2 \(name): \(String(describing: error))")
        if case .status(429, _, _)? = error { #expect(error?.retryAfterSeconds == 3) }
        #expect(rig.tt.orderRequests.dropFirst(requestsBefore).map { $0.query["nextPageKey"] } == [nil, "O2"], "page 2 \(name)")
        #expect(sink.submissions.count == 1 && sink.cursor(named: "ttorders") == stored, "page 2 \(name)")

        rig.config.requestTimeoutSeconds = 5
        let summary = try rig.monitor().pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.pages == 3)
        #expect(sink.submissions.count == 2, "page 2 \(name)")
        #expect(orders(sink).dropFirst(4) == [
            OrderMessage(action: .replace, orderId: "O1", version: 2, qty: 9, price: "110.25"),
            newOrder("O5", qty: 2, price: "110.25"),
            OrderMessage(action: .cancel, orderId: "O4", version: 2),
        ], "page 2 \(name)")
    }

    /// Paging that cannot be followed to its end, and the requests it takes to find out.
    static let unfinishedPaging: [(paging: FakeTT.OrderPaging, requests: Int, says: String)] = [
        (.neverEnds, 5, "after 5 pages"),
        (.repeatsKey, 2, "again"),
        (.moreWithoutKey, 1, "no nextPageKey"),
    ]

    @Test(arguments: unfinishedPaging.indices)
    func pagingThatNeverReachesTheLastPageIsCutWithAnErrorAndSubmitsNothing(case index: Int) throws {
        let (paging, requests, says) = Self.unfinishedPaging[index]
        let rig = try rig(pageSize: 2); defer { rig.finish() }
        let sink = RecordingSink()
        try storeFourOrders(rig, sink)
        rig.tt.update { $0.orderPaging = paging }
        let requestsBefore = rig.tt.orderRequests.count
        let error = #expect(throws: TTError.self) { _ = try rig.monitor(maxPagesPerPoll: 5).pollOnce(sink: sink, stopping: StopSignal()) }
        guard case .incompletePages(let detail)? = error else {
            Issue.record("\(paging): expected incompletePages, got \(String(describing: error))"); return
        }
        #expect(detail.contains(says), "\(paging): \(detail)")
        #expect(error?.isTransient == true)
        #expect(rig.tt.orderRequests.count - requestsBefore == requests, "\(paging)")
        #expect(sink.submissions.count == 1, "\(paging): nothing submitted, nothing cancelled")
    }

    // MARK: Absence over several pages is confirmed by a second poll

    /// O1…O6, three pages of two, stored by a first poll of `monitor`.
    func storeSixOrders(_ rig: Rig, _ monitor: TTOrdersMonitor, _ sink: RecordingSink) throws {
        for id in ["O1", "O2", "O3", "O4", "O5", "O6"] { rig.tt.setOrder(id, qty: 5, leaves: 5, px: "110.25") }
        let summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.pages == 3 && summary.new == 6)
        #expect(sink.submissions.count == 1)
    }

    @Test func aWorkingOrderThatMovesAcrossAPageBoundaryMidPollIsNotCancelled() throws {
        let rig = try rig(pageSize: 2); defer { rig.finish() }
        let sink = RecordingSink()
        let monitor = rig.monitor()
        try storeSixOrders(rig, monitor, sink)
        let stored = sink.cursor(named: "ttorders")

        // Pages [O1 O2] [O3 O4] are read; then O5 moves ahead of O4 in TT's list, so page 3 (after
        // O4) lists only O6: this poll finds O5 on no page although it still works.
        rig.tt.update { $0.orderSequenceChange = (beforePage: 3, sequence: ["O1", "O2", "O3", "O5", "O4", "O6"]) }
        var summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.pages == 3 && summary.working == 5 && summary.missedOnce == 1 && summary.ended == 0)
        #expect(sink.submissions.count == 1 && sink.cursor(named: "ttorders") == stored, "no cancel, O5 still stored")

        // The next poll finds it ([O1 O2] [O3 O5] [O4 O6]) and has nothing to send for it.
        summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.working == 6 && summary.missedOnce == 0)
        #expect(sink.submissions.count == 1)

        // Finding it cleared the miss: the same slip again later is again only a first miss.
        rig.tt.update {
            $0.orderSequence = nil
            $0.orderSequenceChange = (beforePage: 3, sequence: ["O1", "O2", "O3", "O5", "O4", "O6"])
        }
        summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.working == 5 && summary.missedOnce == 1 && summary.ended == 0)
        _ = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(sink.submissions.count == 1)
        #expect(orders(sink) == ["O1", "O2", "O3", "O4", "O5", "O6"].map { newOrder($0, qty: 5, price: "110.25") })
    }

    @Test func anOrderGoneFromAMultiPageSetIsCancelledOnceOnTheSecondPollThatMissesIt() throws {
        let rig = try rig(pageSize: 2); defer { rig.finish() }
        let sink = RecordingSink()
        let monitor = rig.monitor()
        try storeSixOrders(rig, monitor, sink)

        rig.tt.removeOrder("O3")
        var summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.missedOnce == 1 && summary.ended == 0 && sink.submissions.count == 1)
        summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.missedOnce == 0 && summary.ended == 1)
        #expect(sink.submissions.last?.messages == [.order(OrderMessage(action: .cancel, orderId: "O3", version: 2))])
        _ = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(sink.submissions.count == 2)
        #expect(try TTOrdersMonitor.decode(cursor: sink.cursor(named: "ttorders")).keys.sorted() == ["O1", "O2", "O4", "O5", "O6"])

        // A restart forgets a first miss (it is not stored): the restarted monitor waits one more poll.
        rig.tt.removeOrder("O4")
        _ = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        let restarted = rig.monitor()
        summary = try restarted.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.missedOnce == 1 && sink.submissions.count == 2)
        _ = try restarted.pollOnce(sink: sink, stopping: StopSignal())
        #expect(sink.submissions.count == 3)
        #expect(orders(sink).filter { $0.action == .cancel } == [
            OrderMessage(action: .cancel, orderId: "O3", version: 2),
            OrderMessage(action: .cancel, orderId: "O4", version: 2),
        ])
    }

    @Test func aMissingOrderInASinglePageSetIsCancelledOnTheFirstPoll() throws {
        let rig = try rig(pageSize: nil); defer { rig.finish() }
        let sink = RecordingSink()
        let monitor = rig.monitor()
        for id in ["O1", "O2", "O3"] { rig.tt.setOrder(id, qty: 5, leaves: 5, px: "110.25") }
        _ = try monitor.pollOnce(sink: sink, stopping: StopSignal())

        rig.tt.removeOrder("O2")
        let summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.pages == 1 && summary.missedOnce == 0 && summary.ended == 1)
        #expect(sink.submissions.last?.messages == [.order(OrderMessage(action: .cancel, orderId: "O2", version: 2))])
    }

    @Test func anOrderListedRejectedOrFilledInAMultiPageSetEndsOnTheFirstPoll() throws {
        let rig = try rig(pageSize: 2); defer { rig.finish() }
        let sink = RecordingSink()
        let monitor = rig.monitor()
        try storeSixOrders(rig, monitor, sink)

        // TT says what became of them: no second poll is needed.
        rig.tt.setOrder("O2", qty: 5, leaves: 5, px: "110.25", status: FakeTT.Status.rejected)
        rig.tt.setOrder("O5", qty: 5, leaves: 0, px: "110.25", status: FakeTT.Status.filled)
        let summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.pages == 3 && summary.missedOnce == 0)
        #expect(sink.submissions.last?.messages == [.order(OrderMessage(action: .reject, orderId: "O2", version: 2))])
        #expect(try TTOrdersMonitor.decode(cursor: sink.cursor(named: "ttorders")).keys.sorted() == ["O1", "O3", "O4", "O6"])
    }

    @Test func aFailedPollNeitherCountsAsAMissNorClearsOne() throws {
        let rig = try rig(pageSize: 2); defer { rig.finish() }
        let sink = RecordingSink()
        let monitor = rig.monitor()
        try storeSixOrders(rig, monitor, sink)
        rig.tt.removeOrder("O3")

        // Page 2 fails: not a poll that missed O3, so the next complete poll is its first miss.
        rig.tt.update { $0.orderPageFaults = [(page: 2, fault: .status(500))] }
        #expect(throws: TTError.self) { _ = try monitor.pollOnce(sink: sink, stopping: StopSignal()) }
        var summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.missedOnce == 1 && sink.submissions.count == 1)

        // Page 3 fails, then the confirming poll's commit fails: neither forgets the first miss,
        // so the poll after them cancels O3.
        rig.tt.update { $0.orderPageFaults = [(page: 3, fault: .malformed)] }
        #expect(throws: TTError.self) { _ = try monitor.pollOnce(sink: sink, stopping: StopSignal()) }
        sink.failNextCommits(1)
        #expect(throws: TTError.self) { _ = try monitor.pollOnce(sink: sink, stopping: StopSignal()) }
        summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.ended == 1)
        #expect(orders(sink).filter { $0.action == .cancel } == [OrderMessage(action: .cancel, orderId: "O3", version: 2)])
    }

    @Test func a401OnPage2RefreshesTheTokenOnceAndThePollContinues() throws {
        let rig = try rig(pageSize: 2); defer { rig.finish() }
        for id in ["O1", "O2", "O3"] { rig.tt.setOrder(id, qty: 1, leaves: 1, px: "110.25") }
        rig.tt.update { $0.orderPageFaults = [(page: 2, fault: .revokeTokens)] }
        let sink = RecordingSink()
        let monitor = rig.monitor()
        let summary = try monitor.pollOnce(sink: sink, stopping: StopSignal())
        #expect(summary.pages == 2 && summary.new == 3)
        // Page 2 was asked for twice, with the same key: refused with the first token, then
        // answered with the one fetched after the 401.
        #expect(rig.tt.orderRequests.map { "\($0.query["nextPageKey"] ?? "-") \($0.headers["authorization"] ?? "")" } ==
                ["- Bearer T1", "O2 Bearer T1", "O2 Bearer T2"])
        #expect(monitor.tokens.refreshCount == 2 && rig.tt.tokenRequests.count == 2)
        #expect(orders(sink).map(\.orderId) == ["O1", "O2", "O3"])
    }
}

/// The orders mapping against the shape of a reply TT's `/ttledger/{env}/orders` really gives
/// (field names and number forms as in the public sample cited in docs/operations.md; the values
/// here are made up).
@Suite struct TTOrdersReplyMappingTests {
    static let reply = #"""
    {"lastPage":"true","status":"Ok","orders":[
      {"accountId":555,"orderId":"a-working","instrumentId":"777","side":"1","orderQty":80.0,"leavesQuantity":80.0,
       "cumulatedQuantity":0.0,"price":110.171875,"orderStatus":"1","orderType":"2","executionType":"1","timeInForce":"1"},
      {"accountId":555,"orderId":"b-part-filled","instrumentId":"777","side":"2","orderQty":10.0,"leavesQuantity":4.0,
       "cumulatedQuantity":6.0,"price":110.3125,"orderStatus":"2","orderType":"2","executionType":"14"},
      {"accountId":555,"orderId":"c-stop","instrumentId":"777","side":"2","orderQty":1.0,"leavesQuantity":1.0,
       "cumulatedQuantity":0.0,"price":110.046875,"stopPrice":110.046875,"orderStatus":"1","orderType":"4"},
      {"accountId":555,"orderId":"d-algo-parent","instrumentId":"777","side":"1","orderStatus":"1","executionType":"12",
       "syntheticType":"7","marketId":1001},
      {"accountId":555,"orderId":"e-cancelled","instrumentId":"777","side":"1","orderQty":3.0,"leavesQuantity":0.0,
       "cumulatedQuantity":1.0,"price":110.25,"orderStatus":"5"},
      {"accountId":555,"orderId":"f-filled","instrumentId":"777","side":"1","orderQty":2.0,"leavesQuantity":0.0,
       "cumulatedQuantity":2.0,"price":110.25,"orderStatus":"3"},
      {"accountId":555,"orderId":"g-executed","instrumentId":"777","side":"1","orderQty":2.0,"leavesQuantity":0.0,
       "cumulatedQuantity":2.0,"price":110.25,"orderStatus":"2"},
      {"accountId":555,"orderId":"h-rejected","instrumentId":"777","side":"1","orderQty":2.0,"leavesQuantity":0.0,
       "cumulatedQuantity":0.0,"price":110.25,"orderStatus":"8"}
    ]}
    """#

    @Test func workingFilledAndRejectedOrdersAreToldApartByTTsNumbering() throws {
        var config = TTConfig()
        config.accounts = ["555": "ACC1"]
        config.instruments = ["777": TTInstrumentMapping(symbol: "ZNZ6")]
        let page = try TTOrderMapping.page(from: Self.reply, config: config, catalogSymbols: [:])
        #expect(page.working == [
            TTOrderPage.Working(orderId: "a-working", account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 80, price: "110.171875"),
            // "2" is TT's PartiallyFilled (FIX's Filled): still working, its total kept.
            TTOrderPage.Working(orderId: "b-part-filled", account: "ACC1", instrument: "ZNZ6", side: "sell", qty: 10, price: "110.3125"),
            TTOrderPage.Working(orderId: "c-stop", account: "ACC1", instrument: "ZNZ6", side: "sell", qty: 1, price: "110.046875"),
        ])
        // Filled by code ("3") or by quantity (all of it executed, whatever the code); the
        // cancelled one and the algo's parent are neither: if stored, they become cancels.
        #expect(page.filled == ["f-filled", "g-executed"])
        #expect(page.rejected == ["h-rejected"])
        #expect(page.skipped.isEmpty)
        #expect(page.continuation == .lastPage)
    }

    @Test func aKeyIsFollowedWhateverLastPageSaysUnlessThePageIsEmpty() throws {
        func continuation(_ json: String, listed: Int) throws -> TTOrderPage.Continuation {
            TTOrderMapping.continuation(of: try JSONValue.parse(json), listed: listed)
        }
        #expect(try continuation(#"{"lastPage":"true","nextPageKey":"K"}"#, listed: 3) == .next("K"))
        #expect(try continuation(#"{"lastPage":"false","nextPageKey":"K"}"#, listed: 3) == .next("K"))
        #expect(try continuation(#"{"lastPage":false,"nextPageKey":"K"}"#, listed: 0) == .next("K"))
        #expect(try continuation(#"{"lastPage":"true","nextPageKey":"K"}"#, listed: 0) == .lastPage)
        #expect(try continuation(#"{"lastPage":"False"}"#, listed: 3) == .moreWithoutKey)
        #expect(try continuation(#"{"lastPage":"true"}"#, listed: 3) == .lastPage)
        #expect(try continuation(#"{"orders":[]}"#, listed: 0) == .lastPage)
    }
}
