import Testing
@testable import Ledger

/// domain.md §4 worked example: ZN, SOD long 2 at 110'160, five fills, to the cent.
@Suite struct WorkedExampleTests {
    static let fills: [LedgerEvent] = [
        fillEvent("F1", .buy, 3, "110'185", second: 1),
        fillEvent("F2", .buy, 2, "110'200", second: 2),
        fillEvent("F3", .sell, 4, "110'215", second: 3),
        fillEvent("F4", .sell, 6, "110'170", second: 4),
        fillEvent("F5", .buy, 2, "110'145", second: 5),
    ]

    func ledger(_ method: CostMethod) -> Ledger {
        var ledger = Ledger(catalog: defaultCatalog, config: LedgerConfig(defaultMethod: method))
        ledger.applyAll([sodEvent(2, "110'160")])
        return ledger
    }

    func realized(_ ledger: Ledger) -> String { ledger.position(account: "ACC1", instrument: "ZNZ6")!.realized.decimalString }

    @Test func lifoRealizedStepByStep() {
        var ledger = ledger(.lifo)
        var cumulative: [String] = []
        for event in Self.fills {
            ledger.applyAll([event])
            cumulative.append(realized(ledger))
        }
        #expect(cumulative == ["0", "0", "281.25", "296.875", "453.125"])
        #expect(ledger.openLots(account: "ACC1", instrument: "ZNZ6") == [Lot(qty: -1, price: px("110'170"))])
        ledger.applyAll([markEvent("110'160", second: 6)])
        let line = ledger.position(account: "ACC1", instrument: "ZNZ6")!
        #expect(line.net == -1)
        #expect(line.unrealized.decimalString == "31.25")
        #expect(line.total.decimalString == "484.375")
        #expect(line.markSource == .mark)
        #expect(line.sodQty == 2 && line.bought == 7 && line.sold == 10)
        #expect(ledger.desk.total.decimalString == "484.375")
        #expect(ledger.account("ACC1")!.total.decimalString == "484.375")
    }

    @Test func lifoOpenLotsAfterF3AndF4Flip() {
        var ledger = ledger(.lifo)
        ledger.applyAll(Array(Self.fills.prefix(3)))
        #expect(ledger.openLots(account: "ACC1", instrument: "ZNZ6") == [Lot(qty: 2, price: px("110'160")), Lot(qty: 1, price: px("110'185"))])
        ledger.applyAll([Self.fills[3]])
        #expect(ledger.openLots(account: "ACC1", instrument: "ZNZ6") == [Lot(qty: -3, price: px("110'170"))])
        #expect(ledger.position(account: "ACC1", instrument: "ZNZ6")!.avgPrice == px("110'170"))
    }

    @Test func fifoRealizedStepByStep() {
        var ledger = ledger(.fifo)
        var cumulative: [String] = []
        for event in Self.fills {
            ledger.applyAll([event])
            cumulative.append(realized(ledger))
        }
        // F3 +531.25, F4 −234.375, F5 +156.25
        #expect(cumulative == ["0", "0", "531.25", "296.875", "453.125"])
        ledger.applyAll([markEvent("110'160", second: 6)])
        #expect(ledger.position(account: "ACC1", instrument: "ZNZ6")!.total.decimalString == "484.375")
    }

    @Test func methodsAgreeOnTotalAfterF3AtMark110_625() {
        var totals: [CostMethod: (String, String, String)] = [:]
        for method in CostMethod.allCases {
            var ledger = ledger(method)
            ledger.applyAll(Array(Self.fills.prefix(3)) + [markEvent("110'200", second: 4)])
            let line = ledger.position(account: "ACC1", instrument: "ZNZ6")!
            totals[method] = (line.realized.decimalString, line.unrealized.decimalString, line.total.decimalString)
        }
        #expect(totals[.lifo]! == ("281.25", "296.875", "578.125"))
        #expect(totals[.fifo]! == ("531.25", "46.875", "578.125"))
        #expect(totals[.average]!.2 == "578.125")
    }

    @Test func bustOfF3ReplaysLIFO() throws {
        var ledger = ledger(.lifo)
        ledger.applyAll(Self.fills + [markEvent("110'160", second: 6)])
        let deltas = try ledger.apply(.bust(execId: "F3", time: at("2026-11-24T15:00:00Z")))
        let line = ledger.position(account: "ACC1", instrument: "ZNZ6")!
        #expect(line.realized.decimalString == "-296.875")
        #expect(line.net == 3)
        #expect(ledger.openLots(account: "ACC1", instrument: "ZNZ6") == [Lot(qty: 1, price: px("110'160")), Lot(qty: 2, price: px("110'145"))])
        #expect(line.unrealized.decimalString == "93.75")
        #expect(line.total.decimalString == "-203.125")
        #expect(ledger.fill(execId: "F3")?.status == .busted)
        guard case .fill(let record) = deltas.first else { Issue.record("first delta must be the fill"); return }
        #expect(record.status == .busted && record.fill.execId == "F3")

        // Exactly as if F3 had never existed.
        var without = self.ledger(.lifo)
        without.applyAll(Self.fills.filter { if case .fill(let f) = $0 { return f.execId != "F3" }; return true }
                         + [markEvent("110'160", second: 6)])
        #expect(without.positions == ledger.positions)
        #expect(without.desk == ledger.desk)
    }

    @Test func bustTwiceAndUnknownAreTypedErrors() throws {
        var ledger = ledger(.lifo)
        ledger.applyAll(Self.fills)
        _ = try ledger.apply(.bust(execId: "F3", time: 0))
        #expect(throws: LedgerError.fillAlreadyBusted("F3")) { try ledger.apply(.bust(execId: "F3", time: 0)) }
        #expect(throws: LedgerError.unknownFill("NOPE")) { try ledger.apply(.bust(execId: "NOPE", time: 0)) }
        #expect(LedgerError.fillAlreadyBusted("F3").code == "fill_already_busted")
        #expect(LedgerError.unknownFill("NOPE").code == "unknown_fill")
    }

    @Test func correctionReplaysWithNewQtyAndPrice() throws {
        var ledger = ledger(.lifo)
        ledger.applyAll(Self.fills)
        _ = try ledger.apply(.correct(execId: "F3", qty: 2, price: px("110'200"), time: 0))
        var expected = self.ledger(.lifo)
        expected.applyAll([
            Self.fills[0], Self.fills[1], fillEvent("F3", .sell, 2, "110'200", second: 3), Self.fills[3], Self.fills[4],
        ])
        #expect(expected.positions == ledger.positions)
        let record = ledger.fill(execId: "F3")!
        #expect(record.status == .corrected)
        #expect(record.originalQty == 4 && record.originalPrice == px("110'215"))
        #expect(record.fill.qty == 2 && record.fill.price == px("110'200"))
    }
}
