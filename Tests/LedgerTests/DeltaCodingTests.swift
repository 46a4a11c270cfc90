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

/// The format is stored in users' journals: `DeltaCoding.encode` must write exactly the bytes of
/// the first writer (`ReferenceDeltaEncoder`), whatever it does to be faster.
@Suite struct DeltaCodingFormatTests {
    /// Every event of random ledgers (limits, busts, corrections, SOD, marks, day rolls).
    @Test(arguments: [UInt64(11), 12, 13, 14, 15, 16, 17, 18])
    func theBytesOfRandomLedgersAreTheReferenceWritersBytes(seed: UInt64) {
        let config = LedgerConfig(defaultMethod: .lifo, defaultLossLimit: Money(dollars: 300),
                                  accounts: ["B": AccountConfig(method: .fifo, lossLimit: Money(dollars: 100), positionLimit: 6)],
                                  deskLossLimit: Money(dollars: 500))
        var generator = EventGenerator(seed: seed)
        var ledger = Ledger(catalog: defaultCatalog, config: config)
        var events = 0
        for event in generator.events(400, openingMarks: true) {
            guard let deltas = try? ledger.apply(event) else { continue }
            #expect(DeltaCoding.encode(deltas) == ReferenceDeltaEncoder.encode(deltas), "seed \(seed) \(event)")
            events += 1
        }
        #expect(events > 300)
    }

    /// Deltas of every kind with arbitrary field values: extreme and negative integers (every
    /// LEB128 length), missing and present optionals, empty, long (two-byte length), non-ASCII
    /// and canonically equal but differently spelled strings ("é" as one scalar and as two, "K"
    /// and the Kelvin sign, which `==` calls equal, so the second is stored as a reference to
    /// the first), names alike in length and first eight bytes, many deltas in one event (the
    /// writer's room grows).
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8, 9, 10])
    func arbitraryDeltasOfEveryKindGiveTheReferenceWritersBytes(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        for _ in 0..<200 {
            let deltas = (0..<random.below(random.below(4) == 0 ? 120 : 14)).map { _ in ArbitraryDelta.make(&random) }
            let bytes = DeltaCoding.encode(deltas)
            #expect(bytes == ReferenceDeltaEncoder.encode(deltas))
            // Decoding gives back the first spelling of canonically equal strings, so compare
            // with what decoding the reference bytes gives.
            #expect(try DeltaCoding.decode(bytes) == DeltaCoding.decode(ReferenceDeltaEncoder.encode(deltas)))
        }
    }

    /// A fixed event, byte for byte: the format itself, independent of either writer.
    @Test func aFixedEventHasItsKnownBytes() {
        let deltas: [LedgerDelta] = [
            .mark(MarkRecord(instrument: "ZNZ6", price: Price(units: -1), time: 64, source: "ZNZ6")),
            .deskLimit(DeskTotals(realized: Money(units: 300), lossLimit: nil, limitUsed: Money(units: -65), limitState: .breached)),
        ]
        #expect(DeltaCoding.encode(deltas) == [1, 2,
                                               4, 0, 4, 0x5A, 0x4E, 0x5A, 0x36, 1, 0x80, 1, 1,
                                               6, 0xD8, 4, 0, 0, 0, 0, 0, 0x81, 1, 2])
    }
}

/// Random deltas with no ledger behind them, for the format tests.
private enum ArbitraryDelta {
    static let names = ["", "A", "ACC1", "ZNZ6", "E17", "caf\u{E9}", "cafe\u{301}", "\u{1F4C8}", String(repeating: "x", count: 200),
                        "quote\"and\\slash", "ACC1 ", "K", "\u{212A}", "ACCK", "ACC\u{212A}", "twelve bytes", "twelve bytez"]

    static func int(_ random: inout SeededRandom) -> Int64 {
        switch random.below(6) {
        case 0: return 0
        case 1: return random.between(-64, 64)
        case 2: return Int64(bitPattern: random.next())
        case 3: return random.pick([Int64.min, .max, -1, 63, -65, 64, 8191, -8193])
        case 4: return Int64(bitPattern: random.next()) >> random.between(0, 63)
        default: return random.between(-1_000_000_000_000, 1_000_000_000_000)
        }
    }

    static func optional(_ random: inout SeededRandom) -> Int64? { random.below(3) == 0 ? nil : int(&random) }
    static func name(_ random: inout SeededRandom) -> String { random.pick(names) }

    static func make(_ random: inout SeededRandom) -> LedgerDelta {
        let side: Side = random.below(2) == 0 ? .buy : .sell
        switch random.below(8) {
        case 0:
            let fill = Fill(execId: name(&random), account: name(&random), instrument: name(&random), side: side, qty: int(&random),
                            price: Price(units: int(&random)), time: int(&random), source: name(&random),
                            orderId: random.below(2) == 0 ? nil : name(&random))
            return .fill(FillRecord(fill: fill, status: random.pick([.live, .busted, .corrected]), originalQty: optional(&random),
                                    originalPrice: optional(&random).map(Price.init(units:)), statusTime: optional(&random)))
        case 1:
            return .position(PositionLine(account: name(&random), instrument: name(&random), sodQty: int(&random),
                                          sodPrice: optional(&random).map(Price.init(units:)), bought: int(&random),
                                          sold: int(&random), net: int(&random), avgPrice: optional(&random).map(Price.init(units:)),
                                          mark: optional(&random).map(Price.init(units:)),
                                          markSource: random.pick([.mark, .lastFill, .sod, .none]),
                                          realized: Money(units: int(&random)), unrealized: Money(units: int(&random)),
                                          total: Money(units: int(&random)), dv01: Money(units: int(&random)),
                                          lastFillTime: optional(&random)))
        case 2, 5:
            let totals = AccountTotals(account: name(&random), realized: Money(units: int(&random)),
                                       unrealized: Money(units: int(&random)), total: Money(units: int(&random)),
                                       netContracts: int(&random), grossContracts: int(&random), dv01: Money(units: int(&random)),
                                       lossLimit: optional(&random).map(Money.init(units:)), limitUsed: Money(units: int(&random)),
                                       limitState: random.pick([.ok, .warning, .breached]), positionLimit: optional(&random),
                                       positionState: random.pick([.ok, .warning, .breached]))
            return random.below(2) == 0 ? .account(totals) : .limit(totals)
        case 3, 6:
            let totals = DeskTotals(realized: Money(units: int(&random)), unrealized: Money(units: int(&random)),
                                    total: Money(units: int(&random)), grossContracts: int(&random),
                                    dv01: Money(units: int(&random)), lossLimit: optional(&random).map(Money.init(units:)),
                                    limitUsed: Money(units: int(&random)), limitState: random.pick([.ok, .warning, .breached]))
            return random.below(2) == 0 ? .desk(totals) : .deskLimit(totals)
        case 4:
            return .mark(MarkRecord(instrument: name(&random), price: Price(units: int(&random)), time: int(&random),
                                    source: name(&random)))
        default:
            return .order(OrderRecord(orderId: name(&random), account: name(&random), instrument: name(&random), side: side,
                                      price: Price(units: int(&random)), qty: int(&random), leavesQty: int(&random),
                                      filledQty: int(&random), status: random.pick([.working, .filled, .cancelled, .rejected]),
                                      version: int(&random), time: int(&random), source: name(&random)))
        }
    }
}

private extension [UInt8] {
    /// How often `needle` occurs.
    func count(of needle: [UInt8]) -> Int {
        guard needle.count <= count else { return 0 }
        return (0...(count - needle.count)).filter { self[$0..<$0 + needle.count].elementsEqual(needle) }.count
    }
}
