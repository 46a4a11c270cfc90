import Testing
@testable import Ledger

/// The catalog as a value; reading it from `instruments.json` is ConfigFilesTests' business.
@Suite struct InstrumentCatalogTests {
    @Test func defaultCatalogHasTheContractInstruments() {
        #expect(defaultCatalog.all.map(\.symbol) == ["ESZ6", "TNZ6", "UBZ6", "ZBZ6", "ZFZ6", "ZNZ6", "ZTZ6"])
        let zn = instrument("ZNZ6"), zt = instrument("ZTZ6"), es = instrument("ESZ6")
        #expect(zn.tick == Price(decimal: "0.015625") && zn.dollarsPerPoint == 1000 && zn.display == .thirtySeconds(parts: 2))
        #expect(zt.tick == Price(decimal: "0.00390625") && zt.dollarsPerPoint == 2000 && zt.display == .thirtySeconds(parts: 8))
        #expect(instrument("ZFZ6").display == .thirtySeconds(parts: 4) && instrument("ZBZ6").display == .thirtySeconds(parts: 1))
        #expect(es.tick == Price(decimal: "0.25") && es.dollarsPerPoint == 50 && es.dv01 == nil && es.display == .decimal(places: 2))
        // $ per tick as in domain.md.
        #expect(Money(units: zt.tick.units * zt.dollarsPerPoint).decimalString == "7.8125")
        #expect(Money(units: zn.tick.units * zn.dollarsPerPoint).decimalString == "15.625")
        #expect(Money(units: instrument("UBZ6").tick.units * 1000).decimalString == "31.25")
        #expect(zn.tradingDayEndMinutes == 17 * 60)
    }

    @Test func tickTextAndParseTickAreInverses() {
        for symbol in defaultCatalog.all.map(\.symbol) {
            let instrument = instrument(symbol)
            #expect(Instrument.parseTick(instrument.tickText) == instrument.tick)
        }
        #expect(instrument("ZNZ6").tickText == "1/64" && instrument("ESZ6").tickText == "0.25")
        #expect(Instrument.parseTick("3/256") == Price(decimal: "0.01171875"))
        for bad in ["1/3", "0/64", "-1/64", "1/0", "1/", "x", "", "0.000000001"] {
            #expect(Instrument.parseTick(bad) == nil, "\(bad)")
        }
    }

    @Test func findsInstrumentsBySymbolAndTTId() throws {
        var zn = instrument("ZNZ6")
        zn.ttInstrumentId = "123456"
        let catalog = try InstrumentCatalog(instruments: [instrument("ESZ6"), zn])
        #expect(catalog.all.map(\.symbol) == ["ESZ6", "ZNZ6"])
        #expect(catalog["ZNZ6"] == zn && catalog["NOPE"] == nil)
        #expect(catalog.instrument(ttId: "123456")?.symbol == "ZNZ6" && catalog.instrument(ttId: "1") == nil)
    }

    @Test func refusesWhatCannotBeACatalog() {
        let zn = instrument("ZNZ6")
        #expect(throws: CatalogError.duplicateSymbol("ZNZ6")) { try InstrumentCatalog(instruments: [zn, zn]) }
        #expect(throws: CatalogError.empty) { try InstrumentCatalog(instruments: []) }
        var unnamed = zn
        unnamed.symbol = ""
        #expect(throws: CatalogError.self) { try InstrumentCatalog(instruments: [unnamed]) }
        var free = zn
        free.dollarsPerPoint = 0
        #expect(throws: CatalogError.self) { try InstrumentCatalog(instruments: [free]) }
    }

    @Test func largeCatalogsAreFoundByHashToo() throws {
        let many = (0..<40).map { Instrument(symbol: "S\($0)", product: "S", tick: Price(units: 1), dollarsPerPoint: 1, display: .decimal(places: 8)) }
        let catalog = try InstrumentCatalog(instruments: many)
        #expect(catalog.index(of: "S7").map { catalog.all[$0].symbol } == "S7")
        #expect(catalog.index(of: "S99") == nil)
    }
}
