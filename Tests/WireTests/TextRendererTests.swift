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

    @Test func aFillLineReadsLikeATerminalWatcherExpects() throws {
        let encoder = try Self.encoder()
        let message = try JSONValue.parse(#"{"type":"fill","seq":1043,"execId":"E1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":5,"price":"110'085","priceDecimal":"110.265625","status":"live"}"#)
        let line = TextRenderer(encoder: encoder).line(message)
        #expect(line.hasPrefix("#1043"))
        #expect(line.contains("FILL"))
        #expect(line.contains("ACC1"))
        #expect(line.contains("BUY"))
        #expect(line.contains("@ 110-08+"))
        #expect(line.hasSuffix("E1"))
    }

    @Test func moneyHasASignAndExactDigits() throws {
        let encoder = try Self.encoder()
        let message = try JSONValue.parse(#"{"type":"pnl","seq":9,"scope":"desk","realized":"453.125","unrealized":"-31.25","total":"421.875","dv01":"-72"}"#)
        let line = TextRenderer(encoder: encoder).line(message)
        #expect(line.contains("+453.125"))
        #expect(line.contains("-31.25"))
        #expect(line.contains("DESK"))
        #expect(MessageEncoder.signed(Money(units: 0)) == "+0.00")
        #expect(MessageEncoder.signed(Money(units: 1_562_500_000)) == "+15.625")
    }

    @Test func bustsAndUnknownValuesRenderWithoutGarbage() throws {
        let encoder = try Self.encoder()
        let bust = try JSONValue.parse(#"{"type":"fill","seq":5,"execId":"F3","account":"ACC1","instrument":"ZNZ6","side":"sell","qty":4,"priceDecimal":"110.671875","status":"busted"}"#)
        #expect(TextRenderer(encoder: encoder).line(bust).contains("BUST"))
        let position = try JSONValue.parse(#"{"type":"position","seq":6,"account":"ACC1","instrument":"ZNZ6","net":0,"avgPriceDecimal":null,"markDecimal":null,"markSource":"none","realized":"0","unrealized":"0","total":"0"}"#)
        let line = TextRenderer(encoder: encoder).line(position)
        #expect(line.contains("avg —"))
        #expect(!line.contains("nil"))
    }
}
