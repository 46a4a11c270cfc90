import Testing
@testable import Ledger

@Suite struct PriceTextTests {
    static let treasuries = ["ZTZ6", "ZFZ6", "ZNZ6", "TNZ6", "ZBZ6", "UBZ6"]

    /// Every form in domain.md §2 and the contract, with its exact decimal.
    @Test(arguments: [
        ("ZNZ6", "110-08", "110.25"), ("ZNZ6", "110'080", "110.25"), ("ZNZ6", "110'08", "110.25"),
        ("ZNZ6", "110-08.5", "110.265625"), ("ZNZ6", "110-08+", "110.265625"), ("ZNZ6", "110-085", "110.265625"),
        ("ZNZ6", "110'085", "110.265625"), ("ZNZ6", "110.265625", "110.265625"), ("ZNZ6", "110", "110"),
        ("ZFZ6", "104-16.25", "104.5078125"), ("ZFZ6", "104-162", "104.5078125"), ("ZFZ6", "104'162", "104.5078125"),
        ("ZFZ6", "104-16.75", "104.5234375"), ("ZFZ6", "104-167", "104.5234375"), ("ZFZ6", "104-16+", "104.515625"),
        ("ZTZ6", "102'302", "102.9453125"), ("ZTZ6", "102-30.125", "102.94140625"), ("ZTZ6", "102'301", "102.94140625"),
        ("ZTZ6", "102'303", "102.94921875"), ("ZTZ6", "102'306", "102.95703125"), ("ZTZ6", "102'308", "102.96484375"),
        ("ZBZ6", "109'18", "109.5625"), ("ZBZ6", "109-18", "109.5625"), ("UBZ6", "120'31", "120.96875"),
        ("ESZ6", "6012.25", "6012.25"), ("ESZ6", "6012", "6012"), ("ZNZ6", "-0'08", "-0.25"),
    ])
    func acceptsEveryForm(symbol: String, text: String, decimal: String) throws {
        #expect(try instrument(symbol).parsePrice(text).decimalString == decimal)
    }

    @Test(arguments: [
        ("ZNZ6", "110-08.25"), ("ZNZ6", "110-082"), ("ZNZ6", "110-087"), ("ZNZ6", "110.01"), ("ZNZ6", "110-08.3"),
        ("ZFZ6", "104-161"), ("ZFZ6", "104-16.125"), ("ZBZ6", "109'162"), ("ZBZ6", "109-08+"), ("ZBZ6", "109'185"),
        ("ZTZ6", "102-30.0625"), ("ESZ6", "6012.1"), ("ESZ6", "6012.125"), ("ZNZ6", "110.123456789"),
    ])
    func rejectsOffGrid(symbol: String, text: String) {
        #expect(throws: PriceError.offGrid(text)) { try instrument(symbol).parsePrice(text) }
    }

    @Test(arguments: [
        ("ZNZ6", "110-32"), ("ZNZ6", "abc"), ("ZNZ6", ""), ("ZNZ6", "110--08"), ("ZNZ6", "110-8"), ("ZNZ6", "-"),
        ("ZNZ6", "110-"), ("ZNZ6", "110'0805"), ("ZNZ6", "110-08x"), ("ZNZ6", "110-08."), ("ZNZ6", "'08"),
        ("ZNZ6", "110-99"), ("ZNZ6", "110.2.5"), ("ZNZ6", " 110-08"), ("ZNZ6", "110-08++"), ("ZNZ6", "1e2"),
        ("ESZ6", "6012-08"), ("ZNZ6", "--110"), ("ZNZ6", "110.5-08"), ("ZNZ6", "92233720368-31+"),
        ("ZNZ6", "999999999999-00"), ("ZNZ6", "99999999999999999999"),
    ])
    func rejectsMalformed(symbol: String, text: String) {
        #expect(throws: PriceError.malformed(text)) { try instrument(symbol).parsePrice(text) }
    }

    @Test(arguments: ["102'304", "102'309", "102-304", "110-084"])
    func rejectsAmbiguousCodes(text: String) {
        #expect(throws: PriceError.ambiguous(text)) { try instrument("ZTZ6").parsePrice(text) }
    }

    /// Every tick of every product over two whole points, in every style, back to the same price.
    @Test(arguments: treasuries + ["ESZ6"])
    func everyTickRoundTrips(symbol: String) throws {
        let instrument = instrument(symbol)
        let start = symbol == "ESZ6" ? Price(points: 6000) : Price(points: 109)
        var price = start
        var count = 0
        while price.units <= start.units + 2 * Price.unitsPerPoint {
            for style in PriceStyle.allCases {
                let text = instrument.format(price, style: style)
                #expect(try instrument.parsePrice(text) == price, "\(symbol) \(style) \(text)")
            }
            #expect(try instrument.parsePrice(instrument.decimalString(price)) == price)
            price.units += instrument.tick.units
            count += 1
        }
        let ticksPerPoint = Price.unitsPerPoint / instrument.tick.units
        #expect(count == Int(2 * ticksPerPoint + 1))
    }

    @Test func formatsInEachStyle() {
        let zn = instrument("ZNZ6"), zf = instrument("ZFZ6"), zt = instrument("ZTZ6"), zb = instrument("ZBZ6"), es = instrument("ESZ6")
        #expect(zn.format(px("110-08+")) == "110'085")
        #expect(zn.format(px("110-08")) == "110'080")
        #expect(zn.format(px("110-08+"), style: .cme) == "110-08+")
        #expect(zn.format(px("110-08"), style: .cme) == "110-08")
        #expect(zn.format(px("110-08+"), style: .decimal) == "110.265625")
        #expect(zf.format(px("104-16.25", "ZFZ6")) == "104'162")
        #expect(zf.format(px("104-16.75", "ZFZ6"), style: .cme) == "104-167")
        #expect(zf.format(px("104-16.5", "ZFZ6"), style: .cme) == "104-16+")
        #expect(zt.format(px("102-30.25", "ZTZ6")) == "102'302")
        #expect(zt.format(px("102-30.125", "ZTZ6")) == "102'301")
        #expect(zt.format(px("102-30.875", "ZTZ6"), style: .cme) == "102-308")
        #expect(zb.format(px("109-18", "ZBZ6")) == "109'18")
        #expect(zb.format(px("109-18", "ZBZ6"), style: .cme) == "109-18")
        #expect(zn.format(px("110-02")) == "110'020")
        #expect(es.format(px("6012.25", "ESZ6")) == "6012.25")
        #expect(es.format(px("6012", "ESZ6")) == "6012.00")
        #expect(es.decimalString(px("6012", "ESZ6")) == "6012")
        #expect(zn.format(Price(units: -1_562_500)) == "-0'005")
    }

    /// An average price between ticks is shown exactly, never rounded into a tick.
    @Test func formatsOffDisplayPricesExactly() {
        let zn = instrument("ZNZ6")
        #expect(zn.format(Price(decimal: "110.25390625")!) == "110'081")          // an eighth: code digit
        #expect(zn.format(Price(decimal: "110.33333333")!) == "110.33333333")     // not a 32nd fraction
    }

    @Test func catalogParsesForASymbolWithLedgerErrors() throws {
        #expect(try defaultCatalog.parsePrice("110-08+", instrument: "ZNZ6") == Price(decimal: "110.265625"))
        #expect(throws: LedgerError.unknownInstrument("ZZZ")) { try defaultCatalog.parsePrice("110", instrument: "ZZZ") }
        #expect(throws: LedgerError.priceOffGrid("110-08.25")) { try defaultCatalog.parsePrice("110-08.25", instrument: "ZNZ6") }
        #expect(throws: LedgerError.priceMalformed("x")) { try defaultCatalog.parsePrice("x", instrument: "ZNZ6") }
    }

    @Test func offGridPriceErrorBecomesLedgerCode() {
        #expect(LedgerError(PriceError.offGrid("x")).code == "price_off_grid")
        #expect(LedgerError(PriceError.malformed("x")).code == "price_malformed")
        #expect(LedgerError(PriceError.ambiguous("x")).code == "price_ambiguous")
    }

    @Test func ttPricesGoThroughTheConfiguredScale() throws {
        var zn = instrument("ZNZ6")
        #expect(try zn.priceFromTT("110.265625") == px("110-08+"))
        zn.ttPriceScale = 100
        #expect(try zn.priceFromTT("11026.5625") == px("110-08+"))
        #expect(throws: PriceError.offGrid("11026.56")) { try zn.priceFromTT("11026.56") }
        #expect(throws: PriceError.malformed("x")) { try zn.priceFromTT("x") }
    }
}
