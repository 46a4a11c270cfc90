import Testing
@testable import Ledger

func orderEvent(_ action: OrderEvent.Action, _ orderId: String, version: Int64, account: String? = nil,
                side: Side? = nil, qty: Int64? = nil, price: String? = nil, instrument symbol: String = "ZNZ6",
                second: Int64 = 0) -> LedgerEvent {
    .order(OrderEvent(action: action, orderId: orderId, version: version, account: account,
                      instrument: action == .new ? symbol : nil, side: side, qty: qty, price: price.map { px($0, symbol) },
                      time: at("2026-11-24T14:30:00Z") + second * 1_000_000_000, source: "test"))
}

func newOrder(_ orderId: String, _ side: Side, _ qty: Int64, _ price: String, account: String = "ACC1",
              instrument symbol: String = "ZNZ6", version: Int64 = 1) -> LedgerEvent {
    orderEvent(.new, orderId, version: version, account: account, side: side, qty: qty, price: price, instrument: symbol)
}

func orderFill(_ execId: String, _ orderId: String, _ side: Side, _ qty: Int64, _ price: String,
               account: String = "ACC1", instrument symbol: String = "ZNZ6") -> LedgerEvent {
    .fill(Fill(execId: execId, account: account, instrument: symbol, side: side, qty: qty, price: px(price, symbol),
               time: at("2026-11-24T14:31:00Z"), source: "test", orderId: orderId))
}

/// Working orders: new, replace, cancel, reject, and fills that name them.
@Suite struct OrderTests {
    @Test func newOrderIsWorkingAndEmitsOnlyTheOrder() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        let deltas = try ledger.apply(newOrder("O1", .buy, 5, "110-08"))
        #expect(deltas == [.order(ledger.order("O1")!)])
        let order = try #require(ledger.order("O1"))
        #expect(order.status == .working && order.qty == 5 && order.leavesQty == 5 && order.filledQty == 0)
        #expect(order.price == px("110-08") && order.version == 1)
        #expect(ledger.workingOrders.map(\.orderId) == ["O1"])
        // No position: an order is not a fill.
        #expect(ledger.positions.isEmpty)
    }

    @Test func partialThenFullFillReduceLeavesInTheSameEvent() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([newOrder("O1", .buy, 5, "110-08")])
        let first = try ledger.apply(orderFill("F1", "O1", .buy, 2, "110-08"))
        // The order comes right after its fill, before the position and totals.
        guard case .fill = first[0], case .order(let partial) = first[1], case .position(let line) = first[2] else {
            Issue.record("unexpected deltas \(first)"); return
        }
        #expect(partial.leavesQty == 3 && partial.filledQty == 2 && partial.status == .working)
        #expect(line.net == 2)
        #expect(ledger.fill(execId: "F1")?.fill.orderId == "O1")

        let second = try ledger.apply(orderFill("F2", "O1", .buy, 3, "110-08"))
        guard case .order(let done) = second[1] else { Issue.record("no order delta"); return }
        #expect(done.leavesQty == 0 && done.filledQty == 5 && done.status == .filled)
        #expect(ledger.workingOrders.isEmpty)
    }

    @Test func overfillEndsTheOrderWithoutNegativeLeaves() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([newOrder("O1", .sell, 2, "110-08"), orderFill("F1", "O1", .sell, 3, "110-08")])
        let order = try #require(ledger.order("O1"))
        #expect(order.leavesQty == 0 && order.filledQty == 3 && order.status == .filled)
    }

    @Test func replaceChangesPriceAndTotalKeepingWhatFilled() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([newOrder("O1", .buy, 5, "110-08"), orderFill("F1", "O1", .buy, 2, "110-08")])
        ledger.applyAll([orderEvent(.replace, "O1", version: 2, qty: 4, price: "110-08.5")])
        let order = try #require(ledger.order("O1"))
        #expect(order.qty == 4 && order.leavesQty == 2 && order.filledQty == 2 && order.price == px("110-085"))
        #expect(order.version == 2)
        // A total at or below what already filled would leave nothing working.
        #expect(throws: LedgerError.invalidQuantity(2)) { try ledger.apply(orderEvent(.replace, "O1", version: 3, qty: 2)) }
        #expect(throws: LedgerError.emptyReplace("O1")) { try ledger.apply(orderEvent(.replace, "O1", version: 3)) }
    }

    @Test func cancelAndRejectEndTheOrder() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([newOrder("O1", .buy, 5, "110-08"), newOrder("O2", .sell, 1, "110-10"),
                         orderEvent(.cancel, "O1", version: 2), orderEvent(.reject, "O2", version: 2)])
        #expect(ledger.order("O1")?.status == .cancelled && ledger.order("O1")?.leavesQty == 0)
        #expect(ledger.order("O2")?.status == .rejected && ledger.order("O2")?.leavesQty == 0)
        #expect(ledger.workingOrders.isEmpty)
        #expect(throws: LedgerError.orderNotWorking("O1", "cancelled")) { try ledger.apply(orderEvent(.cancel, "O1", version: 3)) }
        // A fill after the cancel (crossed in flight) still counts, but the order stays cancelled.
        ledger.applyAll([orderFill("F1", "O1", .buy, 1, "110-08")])
        #expect(ledger.order("O1")?.status == .cancelled && ledger.order("O1")?.filledQty == 1)
    }

    @Test func validationRefusesAndChangesNothing() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([markEvent("110-00"), newOrder("O1", .buy, 5, "110-08")])
        let before = ledger.encodeState()
        let offGrid = OrderEvent(action: .new, orderId: "O2", version: 1, account: "ACC1", instrument: "ZNZ6", side: .buy,
                                 qty: 1, price: Price(units: 11_000_000_001), time: 0)
        #expect(throws: LedgerError.priceOffGrid("110.00000001")) { try ledger.apply(.order(offGrid)) }
        #expect(throws: LedgerError.orderExists("O1")) { try ledger.apply(newOrder("O1", .buy, 1, "110-08", version: 2)) }
        #expect(throws: LedgerError.staleOrderVersion("O1", 1, current: 1)) { try ledger.apply(newOrder("O1", .buy, 1, "110-08")) }
        #expect(throws: LedgerError.staleOrderVersion("O1", 1, current: 1)) { try ledger.apply(orderEvent(.cancel, "O1", version: 1)) }
        #expect(throws: LedgerError.unknownOrder("NOPE")) { try ledger.apply(orderEvent(.cancel, "NOPE", version: 1)) }
        #expect(throws: LedgerError.invalidQuantity(0)) { try ledger.apply(newOrder("O3", .buy, 0, "110-08")) }
        #expect(throws: LedgerError.priceOutOfBand(instrument: "ZNZ6", price: px("116-00"), mark: px("110-00"), band: Price(units: 500_000_000))) {
            try ledger.apply(newOrder("O4", .buy, 1, "116-00"))
        }
        // A fill naming an order of another account or side is refused, fill and all.
        #expect(throws: LedgerError.orderMismatch("O1", field: "account")) {
            try ledger.apply(orderFill("F1", "O1", .buy, 1, "110-08", account: "OTHER"))
        }
        #expect(throws: LedgerError.orderMismatch("O1", field: "side")) { try ledger.apply(orderFill("F1", "O1", .sell, 1, "110-08")) }
        #expect(ledger.encodeState() == before)
        #expect(ledger.fill(execId: "F1") == nil)
        // A fill naming an order nobody sent (yet) is still a fill (orders may come from elsewhere).
        let deltas = try ledger.apply(orderFill("F2", "GHOST", .buy, 1, "110-08"))
        #expect(!deltas.contains { if case .order = $0 { return true }; return false })
    }

    @Test func checkPredictsApplyIncludingOrdersEarlierInTheBatch() throws {
        let ledger = Ledger(catalog: defaultCatalog)
        let results = ledger.check(batch: [
            newOrder("O1", .buy, 5, "110-08"),
            orderEvent(.replace, "O1", version: 2, qty: 3),
            orderFill("F1", "O1", .buy, 3, "110-08"),
            orderEvent(.cancel, "O1", version: 3),
            orderEvent(.cancel, "O9", version: 1),
        ])
        #expect(results == [nil, nil, nil, .orderNotWorking("O1", "filled"), .unknownOrder("O9")])
    }

    @Test func checkpointKeepsOrdersAndFillOrderIds() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([newOrder("O1", .buy, 5, "110-08"), newOrder("O2", .sell, 2, "110-12", account: "B"),
                         orderFill("F1", "O1", .buy, 2, "110-08"), orderEvent(.cancel, "O2", version: 2)])
        let restored = try Ledger.restore(from: ledger.encodeState(), catalog: defaultCatalog, config: LedgerConfig())
        #expect(restored.order("O1") == ledger.order("O1"))
        #expect(restored.order("O2") == ledger.order("O2"))
        #expect(restored.fill(execId: "F1")?.fill.orderId == "O1")
        #expect(restored.encodeState() == ledger.encodeState())
        // And the restored ledger goes on the same way.
        var a = ledger, b = restored
        #expect(try a.apply(orderFill("F2", "O1", .buy, 3, "110-08")) == (try b.apply(orderFill("F2", "O1", .buy, 3, "110-08"))))
    }

    @Test func fillsThatCameBeforeTheirOrderCountWhenItArrives() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        // The fill poller was faster than the orders monitor: the fill names an order not yet held.
        ledger.applyAll([orderFill("F1", "O1", .buy, 2, "110-08")])
        #expect(ledger.order("O1") == nil)
        let restored = try Ledger.restore(from: ledger.encodeState(), catalog: defaultCatalog, config: LedgerConfig())
        for var book in [ledger, restored] {
            book.applyAll([newOrder("O1", .buy, 5, "110-08")])
            let order = try #require(book.order("O1"))
            #expect(order.qty == 5 && order.filledQty == 2 && order.leavesQty == 3 && order.status == .working)
            #expect(throws: LedgerError.invalidQuantity(2)) { try book.apply(orderEvent(.replace, "O1", version: 2, qty: 2)) }
        }
        // Everything already filled: the order arrives filled.
        ledger.applyAll([orderFill("F2", "O2", .sell, 3, "110-08"), newOrder("O2", .sell, 3, "110-08")])
        #expect(ledger.order("O2")?.status == .filled && ledger.order("O2")?.leavesQty == 0 && ledger.workingOrders.isEmpty)
        // The batch check sees the same.
        let fresh = Ledger(catalog: defaultCatalog)
        #expect(fresh.check(batch: [orderFill("F1", "O9", .buy, 4, "110-08"), newOrder("O9", .buy, 4, "110-08"),
                                    orderEvent(.cancel, "O9", version: 2)]) == [nil, nil, .orderNotWorking("O9", "filled")])
        // Unclaimed fills do not outlive the day.
        var rolled = Ledger(catalog: defaultCatalog)
        rolled.applyAll([orderFill("F1", "O1", .buy, 2, "110-08"), .dayRoll(time: 0), newOrder("O1", .buy, 5, "110-08")])
        #expect(rolled.order("O1")?.leavesQty == 5)
    }

    @Test func dayRollKeepsWorkingOrdersAndDropsFinishedOnes() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([newOrder("O1", .buy, 5, "110-08"), newOrder("O2", .buy, 1, "110-08"),
                         orderEvent(.cancel, "O2", version: 2), .dayRoll(time: 0)])
        #expect(ledger.order("O1")?.status == .working)
        #expect(ledger.order("O2") == nil)
    }

    @Test func versionTwoCheckpointsStillRestore() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([markEvent("110-08")])
        // Version 2, as its writer laid it out: day, no books, no fills, the mark, no trades,
        // and (unlike version 3) nothing about orders.
        var out = CheckpointWriter()
        out.bytes = Array("LWLG".utf8)
        out.byte(2)
        out.signed(0)
        out.count(0)
        out.count(0)
        let mark = try #require(ledger.marks.first)
        out.count(1)
        out.string(mark.instrument)
        out.signed(mark.price.units)
        out.signed(mark.time)
        out.string(mark.source)
        out.count(0)
        let restored = try Ledger.restore(from: out.bytes, catalog: defaultCatalog, config: LedgerConfig())
        #expect(restored.marks == ledger.marks && restored.workingOrders.isEmpty)
    }
}
