import ConfigFiles
import Foundation
import JSON
import Ledger
import Testing
@testable import Wire

@Suite struct TextRendererTests {
    static func encoder() throws -> MessageEncoder {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/instruments.json").path
        return MessageEncoder(catalog: try InstrumentsFile.load(path: path))
    }

    static func fill(_ execId: String, side: Side, qty: Int64, price: String, status: FillStatus = .live) throws -> FillRecord {
        let zn = try #require(try encoder().catalog["ZNZ6"])
        return FillRecord(fill: Fill(execId: execId, account: "ACC1", instrument: "ZNZ6", side: side, qty: qty,
                                     price: try zn.parsePrice(price), time: 0), status: status)
    }

    @Test func aFillLineReadsLikeATerminalWatcherExpects() throws {
        let renderer = TextRenderer(encoder: try Self.encoder())
        let line = renderer.line(.fill(try Self.fill("E1", side: .buy, qty: 5, price: "110'085"), seq: 1043))
        #expect(line == "#1043   FILL     ACC1       ZNZ6   BUY      5 @ 110-08+      live      E1")
    }

    /// Money reads like a desk's: explicit sign, thousands separators, dollars and cents
    /// (rounded half away from zero; the exact figure is in the JSON).
    @Test func moneyHasASignSeparatorsAndCents() throws {
        let renderer = TextRenderer(encoder: try Self.encoder())
        let desk = DeskTotals(realized: Money(units: 45_312_500_000), unrealized: Money(units: -3_125_000_000),
                              total: Money(units: 42_187_500_000), dv01: Money(units: -7_200_000_000))
        let line = renderer.line(.deskPnL(desk, seq: 9))
        #expect(line == "#9      PNL      DESK       real      +453.13 unreal       -31.25 total      +421.88 dv01     -72.00")
        #expect(TextRenderer.signed(Money(units: 0)) == "+0.00")
        #expect(TextRenderer.signed(Money(units: 1_562_500_000)) == "+15.63")
        #expect(TextRenderer.signed(Money(units: -84_512_794_350)) == "-845.13")
        #expect(TextRenderer.signed(Money(units: -118_582_031_000)) == "-1,185.82")
        #expect(TextRenderer.signed(Money(units: 123_456_789_012_345_678)) == "+1,234,567,890.12")
        #expect(TextRenderer.signed(Money(units: -400_000)) == "+0.00")   // rounds to zero: no minus
        #expect(TextRenderer.signed(Money(units: Int64.min)) == "-92,233,720,368.55")
        #expect(TextRenderer.dollarsAndCents(Money(units: 2_500_000_000_000), sign: false) == "25,000.00")
        #expect(TextRenderer.signed(Int64(-3)) == "-3")
    }

    @Test func bustsAndMissingPricesRenderWithoutGarbage() throws {
        let renderer = TextRenderer(encoder: try Self.encoder())
        let bust = renderer.line(.fill(try Self.fill("F3", side: .sell, qty: 4, price: "110-21+", status: .busted), seq: 5))
        #expect(bust.contains("BUST") && bust.contains("busted"))
        let flat = renderer.line(.position(PositionLine(account: "ACC1", instrument: "ZNZ6"), seq: 6))
        #expect(flat.contains("avg —"))
        #expect(flat.contains("(none)"))
        #expect(!flat.contains("nil"))
    }

    @Test func everyOtherMessageHasItsLine() throws {
        let renderer = TextRenderer(encoder: try Self.encoder())
        #expect(renderer.line(.heartbeat(seq: 3, time: 0)) == "#3      HEARTBEAT 1970-01-01T00:00:00.000Z")
        #expect(renderer.line(.resumed(since: 2, seq: 9, epoch: "E")) == "#9      RESUMED after #2 (epoch E)")
        #expect(renderer.line(.error(code: "bad_filter", message: "no")) == "ERROR bad_filter: no")
        #expect(renderer.line(.pong(id: nil, seq: 4)) == "#4      PONG")
        #expect(renderer.line(.status(MonitorStatus(name: "tt", state: .degraded, lastError: "HTTP 500")))
                == "--      STATUS   tt         degraded — HTTP 500")
        let limit = AccountTotals(account: "ACC1", lossLimit: Money(units: 500_000_000_000), limitUsed: Money(units: 400_000_000_000),
                                  limitState: .warning)
        #expect(renderer.line(.limit(limit, seq: 8)) == "#8      LIMIT    ACC1       warning used +4,000.00 of 5,000.00")
    }
}
