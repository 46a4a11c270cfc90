import Testing
@testable import Ledger

/// What each event emits: exactly what changed, in the documented order.
@Suite struct DeltaTests {
    func kinds(_ deltas: [LedgerDelta]) -> [String] {
        deltas.map {
            switch $0 {
            case .fill: return "fill"
            case .position(let line): return "position:\(line.account)/\(line.instrument)"
            case .account(let totals): return "account:\(totals.account)"
            case .desk: return "desk"
            case .mark: return "mark"
            case .limit(let totals): return "limit:\(totals.account):\(totals.limitState.rawValue)"
            case .order(let order): return "order:\(order.orderId)"
            case .deskLimit(let desk): return "desklimit:\(desk.limitState.rawValue)"
            }
        }
    }

    @Test func fillEmitsFillPositionAccountDesk() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([markEvent("110-00")])
        let deltas = try ledger.apply(fillEvent("E1", .buy, 3, "110-08", second: 1))
        #expect(kinds(deltas) == ["fill", "position:ACC1/ZNZ6", "account:ACC1", "desk"])
        guard case .position(let line) = deltas[1] else { return }
        #expect(line.net == 3 && line.unrealized.decimalString == "-750" && line.dv01.decimalString == "216")
    }

    @Test func markOnEmptyInstrumentEmitsOnlyTheMark() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([fillEvent("E1", .buy, 1, "110-08")])
        #expect(kinds(try ledger.apply(markEvent("6000.25", instrument: "ESZ6"))) == ["mark"])
    }

    @Test func markMovesEveryPositionInTheInstrumentSorted() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([
            markEvent("110-00"),
            fillEvent("E1", .buy, 1, "110-00", account: "ZED"),
            fillEvent("E2", .sell, 2, "110-00", account: "ALPHA"),
            fillEvent("E3", .buy, 1, "6000", instrument: "ESZ6"),
        ])
        let deltas = try ledger.apply(markEvent("110-01", second: 9))
        #expect(kinds(deltas) == ["mark", "position:ALPHA/ZNZ6", "position:ZED/ZNZ6", "account:ALPHA", "account:ZED", "desk"])
        #expect(ledger.desk.unrealized.decimalString == "-31.25")
        // The same mark again changes nothing but the mark record.
        #expect(kinds(try ledger.apply(markEvent("110-01", second: 10))) == ["mark"])
    }

    @Test func flatBookAtNewMarkDoesNotChange() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([markEvent("110-00"), fillEvent("E1", .buy, 1, "110-00"), fillEvent("E2", .sell, 1, "110-01")])
        // The flat line shows the new mark, but no P&L moved: no account or desk delta.
        #expect(kinds(try ledger.apply(markEvent("111-00", second: 9))) == ["mark", "position:ACC1/ZNZ6"])
    }

    @Test func markWaterfallMarkThenLastFillThenSOD() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([sodEvent(2, "110-16", account: "B")])
        var line = ledger.position(account: "B", instrument: "ZNZ6")!
        #expect(line.markSource == .sod && line.mark == px("110-16") && line.unrealized == .zero)

        // A fill in another account becomes B's mark: B's line changes too.
        let deltas = try ledger.apply(fillEvent("E1", .buy, 1, "110-17", account: "A"))
        #expect(kinds(deltas) == ["fill", "position:A/ZNZ6", "position:B/ZNZ6", "account:A", "account:B", "desk"])
        line = ledger.position(account: "B", instrument: "ZNZ6")!
        #expect(line.markSource == .lastFill && line.unrealized.decimalString == "62.5")

        ledger.applyAll([markEvent("110-15", second: 2)])
        line = ledger.position(account: "B", instrument: "ZNZ6")!
        #expect(line.markSource == .mark && line.unrealized.decimalString == "-62.5")
    }

    @Test func bustOfTheLastFillRestoresThePreviousLastFillMark() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([
            fillEvent("E1", .buy, 1, "110-00", account: "A", second: 1),
            fillEvent("E2", .buy, 1, "110-04", account: "B", second: 2),
        ])
        #expect(ledger.position(account: "A", instrument: "ZNZ6")!.mark == px("110-04"))
        _ = try ledger.apply(.bust(execId: "E2", time: 0))
        #expect(ledger.position(account: "A", instrument: "ZNZ6")!.mark == px("110-00"))
        #expect(ledger.position(account: "A", instrument: "ZNZ6")!.unrealized == .zero)
    }

    @Test func todaysFirstFillBeatsTheCarriedTradeEvenIfStampedEarlier() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([fillEvent("E1", .buy, 1, "110-00", account: "A", second: 10), .dayRoll(time: 0)])
        #expect(ledger.position(account: "A", instrument: "ZNZ6")!.mark == px("110-00"))
        ledger.applyAll([fillEvent("E2", .buy, 1, "110-04", account: "B", second: 5)])
        #expect(ledger.position(account: "A", instrument: "ZNZ6")!.mark == px("110-04"))
        #expect(ledger.position(account: "A", instrument: "ZNZ6")!.unrealized.decimalString == "125")
        // Busting today's only fill falls back to the carried trade.
        _ = try ledger.apply(.bust(execId: "E2", time: 0))
        #expect(ledger.position(account: "A", instrument: "ZNZ6")!.mark == px("110-00"))
    }

    @Test func lateFillIsPlacedInTimeOrder() throws {
        var inOrder = Ledger(catalog: defaultCatalog)
        inOrder.applyAll([
            fillEvent("E1", .buy, 2, "110-00", second: 1), fillEvent("E2", .buy, 1, "110-10", second: 2),
            fillEvent("E3", .sell, 1, "110-20", second: 3), markEvent("110-00", second: 4),
        ])
        var late = Ledger(catalog: defaultCatalog)
        late.applyAll([
            fillEvent("E1", .buy, 2, "110-00", second: 1), fillEvent("E3", .sell, 1, "110-20", second: 3),
            fillEvent("E2", .buy, 1, "110-10", second: 2), markEvent("110-00", second: 4),
        ])
        #expect(inOrder.positions == late.positions)
        #expect(late.position(account: "ACC1", instrument: "ZNZ6")!.realized.decimalString == "312.5")
    }

    @Test func sodReplacesLotsAndReplaysTheDay() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([sodEvent(2, "110-16"), fillEvent("E1", .sell, 1, "110-20"), markEvent("110-16")])
        #expect(ledger.position(account: "ACC1", instrument: "ZNZ6")!.realized.decimalString == "125")
        let deltas = try ledger.apply(sodEvent(-1, "110-00"))
        #expect(kinds(deltas) == ["position:ACC1/ZNZ6", "account:ACC1", "desk"])
        let line = ledger.position(account: "ACC1", instrument: "ZNZ6")!
        #expect(line.sodQty == -1 && line.net == -2 && line.realized == .zero)
        #expect(line.avgPrice == Price(decimal: "110.3125"))
    }

    @Test func dayRollMovesOpenLotsToSODAtTheSettlement() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([
            fillEvent("E1", .buy, 3, "110-00", second: 1), fillEvent("E2", .sell, 1, "110-08", second: 2),
            markEvent("110-16", second: 3),
        ])
        _ = try ledger.apply(.dayRoll(time: at("2026-11-24T23:00:00Z")))
        let line = ledger.position(account: "ACC1", instrument: "ZNZ6")!
        #expect(line.sodQty == 2 && line.sodPrice == px("110-16") && line.net == 2)
        #expect(line.realized == .zero && line.unrealized == .zero && line.bought == 0 && line.sold == 0)
        #expect(ledger.openLots(account: "ACC1", instrument: "ZNZ6") == [Lot(qty: 2, price: px("110-16"))])
        #expect(throws: LedgerError.fillInClosedDay("E1")) { try ledger.apply(.bust(execId: "E1", time: 0)) }
        #expect(ledger.fill(execId: "E1")?.status == .live)
    }

    @Test func dayRollWithoutMarkKeepsEntries() throws {
        var ledger = Ledger(catalog: defaultCatalog, config: LedgerConfig(defaultMethod: .fifo))
        ledger.applyAll([fillEvent("E1", .buy, 1, "110-00", second: 1), fillEvent("E2", .buy, 1, "110-08", second: 2)])
        _ = try ledger.apply(.dayRoll(time: 0))
        #expect(ledger.openLots(account: "ACC1", instrument: "ZNZ6") == [Lot(qty: 1, price: px("110-00")), Lot(qty: 1, price: px("110-08"))])
        // Unrealized still at the carried last fill price.
        #expect(ledger.position(account: "ACC1", instrument: "ZNZ6")!.markSource == .lastFill)
        #expect(ledger.position(account: "ACC1", instrument: "ZNZ6")!.unrealized.decimalString == "250")
    }

    @Test func lossLimitWarningThenBreach() throws {
        let config = LedgerConfig(accounts: ["ACC1": AccountConfig(lossLimit: Money(dollars: 1000))])
        var ledger = Ledger(catalog: defaultCatalog, config: config)
        ledger.applyAll([markEvent("110-00"), fillEvent("E1", .buy, 1, "110-00", second: 1)])
        #expect(ledger.account("ACC1")!.limitState == .ok)
        // −875: 87.5 % used.
        var deltas = try ledger.apply(markEvent("109-04", second: 2))
        #expect(kinds(deltas).last == "limit:ACC1:warning")
        #expect(ledger.account("ACC1")!.limitUsed.decimalString == "875")
        #expect(ledger.account("ACC1")!.limitUsedBasisPoints == 8750)
        deltas = try ledger.apply(markEvent("109-00", second: 3))
        #expect(kinds(deltas).last == "limit:ACC1:breached")
        // Staying breached is not a new limit event.
        deltas = try ledger.apply(markEvent("108-00", second: 4))
        #expect(!kinds(deltas).contains { $0.hasPrefix("limit") })
        deltas = try ledger.apply(markEvent("110-00", second: 5))
        #expect(kinds(deltas).last == "limit:ACC1:ok")
    }

    @Test func priceBandAppliesOnlyWithAMark() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        // ZN band: 320 ticks of 1/64 = 5 points.
        ledger.applyAll([fillEvent("E1", .buy, 1, "100-00")])
        ledger.applyAll([markEvent("110-00")])
        #expect(throws: LedgerError.priceOutOfBand(instrument: "ZNZ6", price: px("115-00+"), mark: px("110-00"), band: Price(points: 5))) {
            try ledger.apply(fillEvent("E2", .buy, 1, "115-00+"))
        }
        _ = try ledger.apply(fillEvent("E3", .buy, 1, "115-00"))
        #expect(throws: LedgerError.self) { try ledger.apply(markEvent("104-31+")) }
        #expect(LedgerError.priceOutOfBand(instrument: "ZNZ6", price: px("115-00+"), mark: px("110-00"), band: Price(points: 5)).code == "price_out_of_band")
    }

    @Test func validationErrorsAreTypedAndChangeNothing() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([fillEvent("E1", .buy, 1, "110-00")])
        let before = ledger.encodeState()
        let bad: [(LedgerEvent, LedgerError)] = [
            (.fill(Fill(execId: "X", account: "A", instrument: "ZZZ", side: .buy, qty: 1, price: Price(points: 1), time: 0)), .unknownInstrument("ZZZ")),
            (.fill(Fill(execId: "X", account: "A", instrument: "ZNZ6", side: .buy, qty: 0, price: Price(points: 1), time: 0)), .invalidQuantity(0)),
            (.fill(Fill(execId: "X", account: "A", instrument: "ZNZ6", side: .buy, qty: 1, price: Price(decimal: "110.01")!, time: 0)), .priceOffGrid("110.01")),
            (.fill(Fill(execId: "E1", account: "A", instrument: "ZNZ6", side: .buy, qty: 1, price: Price(points: 1), time: 0)), .duplicateExecId("E1")),
            (.fill(Fill(execId: "", account: "A", instrument: "ZNZ6", side: .buy, qty: 1, price: Price(points: 1), time: 0)), .missingField("execId")),
            (.fill(Fill(execId: "X", account: "", instrument: "ZNZ6", side: .buy, qty: 1, price: Price(points: 1), time: 0)), .missingField("account")),
            (.correct(execId: "E1", qty: nil, price: nil, time: 0), .emptyCorrection("E1")),
            (.correct(execId: "E1", qty: -2, price: nil, time: 0), .invalidQuantity(-2)),
            (.correct(execId: "E9", qty: 1, price: nil, time: 0), .unknownFill("E9")),
            (.mark(instrument: "ZNZ6", price: Price(decimal: "110.01")!, time: 0, source: ""), .priceOffGrid("110.01")),
            (.sod(account: "A", instrument: "NOPE", qty: 1, price: Price(points: 1), time: 0), .unknownInstrument("NOPE")),
        ]
        for (event, error) in bad {
            #expect(throws: error) { try ledger.check(event) }
            #expect(throws: error) { try ledger.apply(event) }
            #expect(!error.message.isEmpty)
        }
        #expect(ledger.encodeState() == before)
    }

    @Test func overflowIsATypedErrorAndChangesNothing() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([fillEvent("E1", .buy, 1, "6000", instrument: "ESZ6")])
        let before = ledger.encodeState()
        let huge = LedgerEvent.fill(Fill(execId: "E2", account: "ACC1", instrument: "ESZ6", side: .buy,
                                         qty: 4_000_000_000_000_000, price: Price(points: 6000), time: 1))
        #expect(throws: LedgerError.overflow) { try ledger.apply(huge) }
        #expect(ledger.encodeState() == before)
        #expect(ledger.positions.count == 1)
    }

    @Test func sodOfInt64MinIsRefused() {
        var ledger = Ledger(catalog: defaultCatalog, config: LedgerConfig(defaultMethod: .average))
        #expect(throws: LedgerError.invalidQuantity(.min)) {
            try ledger.apply(.sod(account: "A", instrument: "ESZ6", qty: .min, price: Price(units: 0), time: 0))
        }
        #expect(ledger.check(batch: [.sod(account: "A", instrument: "ESZ6", qty: .min, price: Price(units: 0), time: 0)]) == [.invalidQuantity(.min)])
    }

    @Test func checkDoesNotChangeState() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([fillEvent("E1", .buy, 1, "110-00")])
        let before = ledger.encodeState()
        try ledger.check(fillEvent("E2", .buy, 1, "110-00"))
        try ledger.check(.bust(execId: "E1", time: 0))
        try ledger.check(.dayRoll(time: 0))
        #expect(ledger.encodeState() == before)
    }

    @Test func averageCostKeepsTotalCostExact() throws {
        var ledger = Ledger(catalog: defaultCatalog, config: LedgerConfig(defaultMethod: .average))
        ledger.applyAll([
            fillEvent("E1", .buy, 1, "110-00", second: 1), fillEvent("E2", .buy, 2, "110-01", second: 2),
            fillEvent("E3", .sell, 1, "110-02", second: 3), markEvent("110-00", second: 4),
        ])
        let line = ledger.position(account: "ACC1", instrument: "ZNZ6")!
        // Cost 330.0625 over 3; selling 1 removes round(cost/3), leaving 220.04166667 over 2:
        // the average 110.020833335 rounds half away from zero to 1e-8.
        #expect(line.avgPrice == Price(decimal: "110.02083334"))
        // Total is exact: realized + unrealized = proceeds − cost, whatever the split.
        #expect(line.total.decimalString == "0")
        #expect(line.realized.decimalString == "41.66667")
        #expect(line.unrealized.decimalString == "-41.66667")
    }

    @Test func recentFillsNewestLastAndFillLookup() {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll((1...5).map { fillEvent("E\($0)", .buy, 1, "110-00", second: Int64($0)) })
        #expect(ledger.recentFills(limit: 2).map(\.fill.execId) == ["E4", "E5"])
        #expect(ledger.recentFills(limit: 10).count == 5)
        #expect(ledger.fill(execId: "E3")?.fill.qty == 1)
        #expect(ledger.fill(execId: "nope") == nil)
    }

    @Test func positionLimitsWarnAndBreachOnGrossContracts() throws {
        var ledger = Ledger(catalog: defaultCatalog, config: LedgerConfig(accounts: ["ACC1": AccountConfig(positionLimit: 10)]))
        #expect(kinds(try ledger.apply(fillEvent("E1", .buy, 7, "110-08", second: 1))).last == "desk")
        // 8 of 10 gross (80 %): warning; across instruments, short counts as gross too.
        let warning = try ledger.apply(fillEvent("E2", .sell, 1, "115-00", instrument: "ZBZ6", second: 2))
        #expect(kinds(warning).last == "limit:ACC1:ok")
        guard case .limit(let totals) = warning.last else { return }
        #expect(totals.grossContracts == 8 && totals.positionLimit == 10 && totals.positionState == .warning)
        let breach = try ledger.apply(fillEvent("E3", .buy, 2, "110-08", second: 3))
        guard case .limit(let breached) = breach.last else { Issue.record("no limit delta"); return }
        #expect(breached.positionState == .breached)
        // Staying breached emits nothing more; back under 80 % emits the flip.
        #expect(!kinds(try ledger.apply(fillEvent("E4", .buy, 1, "110-08", second: 4))).contains { $0.hasPrefix("limit") })
        let back = try ledger.apply(fillEvent("E5", .sell, 8, "110-08", second: 5))
        guard case .limit(let ok) = back.last else { Issue.record("no limit delta"); return }
        #expect(ok.positionState == .ok && ok.grossContracts == 3)
        // Another account without a limit never gets one.
        #expect(!kinds(try ledger.apply(fillEvent("B1", .buy, 50, "110-08", account: "B", second: 6))).contains { $0.hasPrefix("limit") })
    }

    @Test func theDeskLossLimitFlipsOnTheDeskTotal() throws {
        var ledger = Ledger(catalog: defaultCatalog, config: LedgerConfig(deskLossLimit: Money(dollars: 1000)))
        ledger.applyAll([markEvent("110-00"), fillEvent("E1", .buy, 1, "110-00", second: 1),
                         fillEvent("E2", .buy, 1, "110-00", account: "B", second: 2)])
        #expect(ledger.desk.lossLimit == Money(dollars: 1000) && ledger.desk.limitState == .ok)
        // Two long at 110-00, the mark 13 ticks of 1/32 lower: −812.50 (81 %): warning.
        #expect(kinds(try ledger.apply(markEvent("109-19", second: 3))).last == "desklimit:warning")
        #expect(ledger.desk.limitUsed.decimalString == "812.5")
        #expect(kinds(try ledger.apply(markEvent("109-15", second: 4))).last == "desklimit:breached")
        #expect(kinds(try ledger.apply(markEvent("109-14", second: 5))).last == "desk")
        #expect(kinds(try ledger.apply(markEvent("110-00", second: 6))).last == "desklimit:ok")
    }
}
