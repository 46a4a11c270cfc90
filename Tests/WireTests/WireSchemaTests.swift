import Bytes
import ConfigFiles
import Foundation
import JSON
import Ledger
import Testing
@testable import Wire

/// The wire schema: one JSON writer, checked against the contract's spellings (golden objects),
/// against itself (what it writes reads back and writes again byte for byte: resumes rely on it),
/// and across its own shapes (a snapshot entry is the delta object without type, seq and scope).
@Suite struct WireSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config")

    static func catalog() throws -> InstrumentCatalog {
        try InstrumentsFile.load(path: root.appendingPathComponent("instruments.json").path)
    }

    static func config() throws -> LedgerConfig {
        try AccountsFile.load(path: root.appendingPathComponent("accounts.json").path)
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func bytes(_ write: (inout JSONBytes) -> Void) -> [UInt8] {
        var out = JSONBytes()
        write(&out)
        return out.bytes
    }

    /// A delta object with the keys a snapshot entry leaves out.
    static func withoutHeader(_ value: JSONValue) -> JSONValue {
        guard case .object(let fields) = value else { return value }
        return .object(fields.filter { !["type", "seq", "scope"].contains($0.0) })
    }

    // MARK: Golden objects (docs/protocol.md)

    @Test func goldenFillPositionAndPnL() throws {
        let encoder = MessageEncoder(catalog: try Self.catalog())
        let zn = try #require(encoder.catalog["ZNZ6"])
        let fill = Fill(execId: "E1", account: "ACC1", instrument: "ZNZ6", side: .buy, qty: 3,
                        price: try zn.parsePrice("110-18.5"), time: 1_795_530_600_123_000_000, source: "feed")
        #expect(Self.text(encoder.json(.fill(FillRecord(fill: fill), seq: 1043))) ==
            #"{"type":"fill","seq":1043,"execId":"E1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":3,"price":"110'185","priceDecimal":"110.578125","time":"2026-11-24T14:30:00.123Z","status":"live","source":"feed"}"#)
        let line = PositionLine(account: "ACC1", instrument: "ZNZ6", sodQty: 2, bought: 3, net: 5,
                                avgPrice: try zn.parsePrice("110-16"), mark: nil, markSource: .none,
                                realized: Money(units: 48_437_500_000), unrealized: .zero, total: Money(units: 48_437_500_000),
                                dv01: Money(units: -7_200_000_000))
        #expect(Self.text(encoder.json(.position(line, seq: 9))) ==
            #"{"type":"position","seq":9,"account":"ACC1","instrument":"ZNZ6","sodQty":2,"bought":3,"sold":0,"net":5,"avgPrice":"110'160","avgPriceDecimal":"110.5","mark":null,"markDecimal":null,"markSource":"none","realized":"484.375","unrealized":"0","total":"484.375","dv01":"-72","lastFillTime":null}"#)
        #expect(Self.text(encoder.json(.deskPnL(DeskTotals(realized: Money(units: -20_312_500_000), grossContracts: 4), seq: 10))) ==
            #"{"type":"pnl","seq":10,"scope":"desk","realized":"-203.125","unrealized":"0","total":"0","grossContracts":4,"dv01":"0"}"#)
        #expect(Self.text(encoder.json(.heartbeat(seq: 7, time: 0))) == #"{"type":"heartbeat","seq":7,"time":"1970-01-01T00:00:00.000Z"}"#)
        #expect(Self.text(encoder.json(.pong(id: .int(4), seq: 7))) == #"{"type":"pong","id":4,"seq":7}"#)
        #expect(Self.text(encoder.json(.resumed(since: 3, seq: 9, epoch: "e"))) == #"{"type":"resumed","since":3,"seq":9,"epoch":"e"}"#)
        #expect(Self.text(encoder.json(.status(MonitorStatus(name: "tt", state: .degraded, lastError: "HTTP 500")))) ==
            #"{"type":"status","monitor":"tt","state":"degraded","lastError":"HTTP 500","lastSuccess":null,"stale":true}"#)
    }

    // MARK: Round trips over random ledgers

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func everyDeltaOfARandomLedgerReadsBackAndWritesTheSameBytes(seed: UInt64) throws {
        let encoder = MessageEncoder(catalog: try Self.catalog())
        var ledger = Ledger(catalog: encoder.catalog, config: try Self.config())
        var random = SeededRandom(seed: seed)
        var checked = 0
        var kinds = Set<String>()
        for (index, event) in RandomEvents.generate(catalog: encoder.catalog, count: 1_500, random: &random).enumerated() {
            guard let deltas = try? ledger.apply(event) else { continue }
            for delta in deltas {
                let message = SubscriberMessage(delta, seq: Int64(index + 1))
                let bytes = encoder.json(message)
                let parsed = try JSONValue.parse(Self.text(bytes))
                let readBack = try #require(SubscriberMessage(delta: parsed), "\(Self.text(bytes))")
                #expect(encoder.json(readBack) == bytes)
                #expect(readBack.route == message.route)
                kinds.insert(parsed["type"]?.stringValue ?? "?")
                if let status = parsed["status"]?.stringValue, status != "live" { kinds.insert(status) }
                checked += 1
            }
        }
        // The generator must reach every message shape, or the round trip proves little.
        #expect(kinds.isSuperset(of: ["fill", "position", "pnl", "mark", "limit", "corrected", "busted", "order",
                                      "working", "filled", "cancelled", "rejected"]), "\(kinds)")
        #expect(checked > 3_000)

        // Snapshot entries are the delta objects without their header.
        for line in ledger.positions {
            #expect(try JSONValue.parse(Self.text(Self.bytes { encoder.writePosition(line, .entry, to: &$0) }))
                    == Self.withoutHeader(try JSONValue.parse(Self.text(encoder.json(.position(line, seq: 1))))))
        }
        for totals in ledger.accounts {
            #expect(try JSONValue.parse(Self.text(Self.bytes { encoder.writeAccount(totals, .entry, to: &$0) }))
                    == Self.withoutHeader(try JSONValue.parse(Self.text(encoder.json(.accountPnL(totals, seq: 1))))))
        }
        #expect(try JSONValue.parse(Self.text(Self.bytes { encoder.writeDesk(ledger.desk, .entry, to: &$0) }))
                == Self.withoutHeader(try JSONValue.parse(Self.text(encoder.json(.deskPnL(ledger.desk, seq: 1))))))
        for mark in ledger.marks {
            #expect(try JSONValue.parse(Self.text(Self.bytes { encoder.writeMark(mark, .entry, to: &$0) }))
                    == Self.withoutHeader(try JSONValue.parse(Self.text(encoder.json(.mark(mark, seq: 1))))))
        }
        #expect(!ledger.workingOrders.isEmpty)
        for order in ledger.workingOrders {
            #expect(try JSONValue.parse(Self.text(Self.bytes { encoder.writeOrder(order, .entry, to: &$0) }))
                    == Self.withoutHeader(try JSONValue.parse(Self.text(encoder.json(.order(order, seq: 1))))))
        }
    }

    @Test func goldenReconciliationStatus() throws {
        let encoder = MessageEncoder(catalog: try Self.catalog())
        let line = ReconLine(account: "ACC1", instrument: "ZNZ6", state: .break,
                             ledger: .init(net: 3, bought: 5, sold: 4, sod: 2), external: .init(net: 5, bought: 7, sold: 4, sod: 2))
        let status = MonitorStatus(name: "ttrecon", state: .running, lastError: nil, lastSuccess: 0, recon: [line])
        #expect(Self.text(encoder.json(.status(status))) ==
            #"{"type":"status","monitor":"ttrecon","state":"running","lastError":null,"lastSuccess":"1970-01-01T00:00:00.000Z","stale":false,"recon":[{"account":"ACC1","instrument":"ZNZ6","state":"break","ledger":{"net":3,"bought":5,"sold":4,"sod":2},"tt":{"net":5,"bought":7,"sold":4,"sod":2},"difference":-2}]}"#)
        #expect(TextRenderer(encoder: encoder).line(.status(status)) == """
            --      STATUS   ttrecon    running
            --      RECON    ACC1       ZNZ6   BREAK  ledger net    +3 (b 5 s 4 sod +2)  tt net    +5 (b 7 s 4 sod +2)  diff -2
            """)
    }

    @Test func goldenOrderAndAFillThatNamesIt() throws {
        let encoder = MessageEncoder(catalog: try Self.catalog())
        let zn = try #require(encoder.catalog["ZNZ6"])
        let order = OrderRecord(orderId: "O1", account: "ACC1", instrument: "ZNZ6", side: .buy, price: try zn.parsePrice("110-08"),
                                qty: 5, leavesQty: 3, filledQty: 2, status: .working, version: 1,
                                time: 1_795_530_600_123_000_000, source: "feed")
        #expect(Self.text(encoder.json(.order(order, seq: 12))) ==
            #"{"type":"order","seq":12,"orderId":"O1","account":"ACC1","instrument":"ZNZ6","side":"buy","price":"110'080","priceDecimal":"110.25","qty":5,"leavesQty":3,"filledQty":2,"status":"working","version":1,"time":"2026-11-24T14:30:00.123Z","source":"feed"}"#)
        #expect(SubscriberMessage(.order(order), seq: 12).route == .init(channel: .orders, account: "ACC1", instrument: "ZNZ6"))
        let fill = Fill(execId: "E1", account: "ACC1", instrument: "ZNZ6", side: .buy, qty: 2, price: try zn.parsePrice("110-08"),
                        time: 1_795_530_600_123_000_000, source: "feed", orderId: "O1")
        let json = Self.text(encoder.json(.fill(FillRecord(fill: fill), seq: 13)))
        #expect(json.hasSuffix(#""status":"live","source":"feed","orderId":"O1"}"#))
        let back = try #require(SubscriberMessage(delta: try JSONValue.parse(json)))
        #expect(back == .fill(FillRecord(fill: fill), seq: 13))
        #expect(TextRenderer(encoder: encoder).line(.order(order, seq: 12)) ==
            "#12     ORDER    ACC1       ZNZ6   BUY      5 @ 110-08       leaves     3 working   O1")
    }

    @Test func hostileStringsAndUnknownInstrumentsSurviveTheRoundTrip() throws {
        let encoder = MessageEncoder(catalog: try Self.catalog())
        let odd = "A\"c\\c\n\r\t\u{01}\u{1F}é€😀"
        let fill = Fill(execId: odd, account: odd, instrument: "QQZ9", side: .sell, qty: 3,
                        price: Price(units: -12_345_678_900), time: -1_000_000, source: odd)
        let messages: [SubscriberMessage] = [
            .fill(FillRecord(fill: fill, status: .corrected, originalQty: 5, originalPrice: Price(units: 1)), seq: Int64.min),
            .fill(FillRecord(fill: fill, status: .busted), seq: nil),
            .position(PositionLine(account: odd, instrument: "QQZ9", avgPrice: Price(units: 7), mark: Price(units: Int64.min),
                                   markSource: .lastFill, realized: Money(units: Int64.max), lastFillTime: 0), seq: 3),
            .accountPnL(AccountTotals(account: odd, lossLimit: nil, limitState: .warning), seq: 3),
            .limit(AccountTotals(account: odd, lossLimit: Money(units: -1), limitState: .breached), seq: 3),
            .deskPnL(DeskTotals(realized: Money(units: Int64.min), grossContracts: Int64.max), seq: 3),
            .mark(MarkRecord(instrument: odd, price: Price(units: 0), time: 1_000_000, source: odd), seq: 3),
            .limit(AccountTotals(account: odd, grossContracts: 12, lossLimit: nil, limitState: .ok, positionLimit: 10,
                                 positionState: .breached), seq: 4),
            .accountPnL(AccountTotals(account: odd, grossContracts: 9, lossLimit: Money(units: 5), positionLimit: 10,
                                      positionState: .warning), seq: 4),
            .deskPnL(DeskTotals(total: Money(units: -7), lossLimit: Money(units: 5), limitUsed: Money(units: 7), limitState: .breached), seq: 4),
            .deskLimit(DeskTotals(lossLimit: Money(units: 5), limitUsed: Money(units: 4), limitState: .warning), seq: 4),
            .order(OrderRecord(orderId: odd, account: odd, instrument: "QQZ9", side: .sell, price: Price(units: -5), qty: Int64.max,
                               leavesQty: 0, filledQty: Int64.max, status: .rejected, version: Int64.max, time: -1, source: odd), seq: nil),
        ]
        for message in messages {
            let bytes = encoder.json(message)
            let parsed = try JSONValue.parse(Self.text(bytes))
            #expect(parsed["account"]?.stringValue == nil || parsed["account"]?.stringValue == odd)
            let back = try #require(SubscriberMessage(delta: parsed))
            #expect(encoder.json(back) == bytes)
            // Terminals see the same line live and resumed.
            #expect(TextRenderer(encoder: encoder).line(back) == TextRenderer(encoder: encoder).line(message), "\(Self.text(bytes))")
        }
        #expect(Self.text(encoder.json(.deskLimit(DeskTotals(lossLimit: Money(units: 100_000_000_000), limitUsed: Money(units: 90_000_000_000),
                                                             limitState: .warning), seq: 9))) ==
            #"{"type":"limit","seq":9,"scope":"desk","lossLimit":"1000","limitUsed":"900","limitState":"warning"}"#)
        #expect(SubscriberMessage(delta: .object([("type", .string("snapshot"))])) == nil)
        #expect(SubscriberMessage(delta: .object([("type", .string("fill")), ("seq", .int(1))])) == nil)
    }
}
