import Bytes
import Testing
@testable import Ledger

/// The journal keeps each event's deltas in `DeltaCoding`'s binary form and resumes write their
/// messages again from the decoded values, so the coding must give back every field exactly.
@Suite struct DeltaCodingTests {
    /// Random streams with loss and position limits (so limit deltas occur), busts, corrections,
    /// SOD, marks and day rolls: every event's deltas survive the round trip.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func everyDeltaOfARandomStreamRoundTrips(seed: UInt64) throws {
        let config = LedgerConfig(defaultMethod: .lifo, defaultLossLimit: Money(dollars: 300),
                                  accounts: ["B": AccountConfig(method: .fifo, lossLimit: Money(dollars: 100), positionLimit: 6)],
                                  deskLossLimit: Money(dollars: 500))
        var generator = EventGenerator(seed: seed)
        var ledger = Ledger(catalog: defaultCatalog, config: config)
        var kinds = Set<String>()
        for event in generator.events(300, openingMarks: true) {
            guard let deltas = try? ledger.apply(event) else { continue }
            let bytes = DeltaCoding.encode(deltas)
            #expect(try DeltaCoding.decode(bytes) == deltas, "seed \(seed) \(event)")
            for delta in deltas { kinds.insert(String(describing: delta).prefix { $0 != "(" }.description) }
        }
        // The stream exercised the kinds the generator can produce.
        #expect(kinds.isSuperset(of: ["fill", "position", "account", "desk", "mark"]))
    }

    @Test func optionalFieldsAndOrdersRoundTrip() throws {
        let fill = Fill(execId: "E1", account: "ACC1", instrument: "ZNZ6", side: .sell, qty: 3, price: Price(units: 11_025_000_000),
                        time: -5, source: "", orderId: "O7")
        let deltas: [LedgerDelta] = [
            .fill(FillRecord(fill: fill, status: .corrected, originalQty: 4, originalPrice: Price(units: 1), statusTime: .max)),
            .order(OrderRecord(orderId: "O7", account: "ACC1", instrument: "ZNZ6", side: .sell, price: Price(units: 11_025_000_000),
                               qty: 5, leavesQty: 2, filledQty: 3, status: .working, version: 2, time: 9, source: "tt")),
            .position(PositionLine(account: "ACC1", instrument: "ZNZ6", sodQty: -2, sodPrice: Price(units: 7), bought: 0, sold: 3,
                                   net: -5, avgPrice: Price(units: .min), mark: nil, markSource: .sod, realized: Money(units: -1),
                                   unrealized: Money(units: .max), total: .zero, dv01: Money(dollars: -360), lastFillTime: nil)),
            .limit(AccountTotals(account: "ACC1", lossLimit: Money(dollars: 100), limitUsed: Money(dollars: 150), limitState: .breached,
                                 positionLimit: 4, positionState: .warning)),
            .deskLimit(DeskTotals(lossLimit: nil, limitState: .warning)),
            .mark(MarkRecord(instrument: "ESZ6", price: Price(units: 600_025_000_000), time: 1, source: "ACC1")),
        ]
        #expect(try DeltaCoding.decode(DeltaCoding.encode(deltas)) == deltas)
        #expect(try DeltaCoding.decode(DeltaCoding.encode([])) == [])
    }

    /// A fill with its position, account and desk lines: names are written once, so the whole
    /// event is a fraction of the ~2.5 KB of JSON its messages take.
    @Test func repeatedNamesAreWrittenOnce() throws {
        var ledger = Ledger(catalog: defaultCatalog, config: LedgerConfig())
        let deltas = try ledger.apply(fillEvent("EXEC-000123", .buy, 3, "110-08"))
        let bytes = DeltaCoding.encode(deltas)
        #expect(bytes.count < 200)
        #expect(bytes.count(of: Array("EXEC-000123".utf8)) == 1)
        #expect(bytes.count(of: Array("ZNZ6".utf8)) == 1)
    }

    @Test func damagedBytesAreRefusedNotMisread() throws {
        var ledger = Ledger(catalog: defaultCatalog, config: LedgerConfig())
        let bytes = DeltaCoding.encode(try ledger.apply(fillEvent("E1", .buy, 3, "110-08")))
        for cut in [0, 1, bytes.count / 2, bytes.count - 1] {
            #expect(throws: DeltaCoding.DecodingError.self) { try DeltaCoding.decode(Array(bytes.prefix(cut))) }
        }
        #expect(throws: DeltaCoding.DecodingError.self) { try DeltaCoding.decode(bytes + [0]) }
        #expect(throws: DeltaCoding.DecodingError.self) { try DeltaCoding.decode([9] + bytes.dropFirst()) }
    }
}

private extension [UInt8] {
    /// How often `needle` occurs.
    func count(of needle: [UInt8]) -> Int {
        guard needle.count <= count else { return 0 }
        return (0...(count - needle.count)).filter { self[$0..<$0 + needle.count].elementsEqual(needle) }.count
    }
}
