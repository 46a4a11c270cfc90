import Foundation
import Testing
@testable import Ledger

@Suite struct ConfigTests {
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
        #expect(zn.tickText == "1/64" && es.tickText == "0.25")
    }

    @Test func instrumentJSONRoundTrips() throws {
        var zn = instrument("ZNZ6")
        zn.ttInstrumentId = "123456"
        zn.ttPriceScale = 100
        let data = try JSONEncoder().encode([zn, instrument("ESZ6")])
        let catalog = try InstrumentCatalog(json: data)
        #expect(catalog["ZNZ6"] == zn)
        #expect(catalog.instrument(ttId: "123456")?.symbol == "ZNZ6")
        #expect(catalog["ESZ6"] == instrument("ESZ6"))
        #expect(catalog["NOPE"] == nil)
    }

    @Test(arguments: [
        #"{"instruments":[{"symbol":"X","product":"X","tick":"1/3","dollarsPerPoint":1,"format":"decimal"}]}"#,
        #"{"instruments":[{"symbol":"X","product":"X","tick":"1/256","dollarsPerPoint":1000,"format":"32nds","thirtySecondParts":2}]}"#,
        #"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":0,"format":"decimal"}]}"#,
        #"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"weird"}]}"#,
        #"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal","tradingDayEnd":"5pm"}]}"#,
        #"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal","dv01":72.5}]}"#,
        #"{"instruments":[{"symbol":"X","product":"X","dollarsPerPoint":50,"format":"decimal"}]}"#,
        #"{"instruments":[]}"#,
        #"not json"#,
    ])
    func refusesBadInstrumentFiles(json: String) {
        #expect(throws: ConfigError.self) { try InstrumentCatalog(json: Data(json.utf8)) }
    }

    @Test func refusesDuplicateSymbols() {
        let zn = instrument("ZNZ6")
        #expect(throws: ConfigError.duplicateSymbol("ZNZ6")) { try InstrumentCatalog(instruments: [zn, zn]) }
    }

    @Test func missingFileIsUnreadable() {
        #expect(throws: ConfigError.self) { try InstrumentCatalog.load(path: "/nonexistent/instruments.json") }
    }

    @Test func ledgerConfigFromJSON() throws {
        let config = try LedgerConfig(json: Data(#"{"defaultLossLimit":"25000","accounts":{"ACC1":{"method":"fifo","lossLimit":5000},"ACC2":{"method":"average"}}}"#.utf8))
        #expect(config.defaultMethod == .lifo)
        #expect(config.method(for: "ACC1") == .fifo && config.method(for: "ACC2") == .average && config.method(for: "X") == .lifo)
        #expect(config.lossLimit(for: "ACC1") == Money(dollars: 5000) && config.lossLimit(for: "X") == Money(dollars: 25000))
        #expect(throws: ConfigError.self) { try LedgerConfig(json: Data(#"{"defaultMethod":"hifo"}"#.utf8)) }
    }

    @Test func largeCatalogsAreFoundByHashToo() throws {
        let many = (0..<40).map { Instrument(symbol: "S\($0)", product: "S", tick: Price(units: 1), dollarsPerPoint: 1, display: .decimal(places: 8)) }
        let catalog = try InstrumentCatalog(instruments: many)
        #expect(catalog.index(of: "S7").map { catalog.all[$0].symbol } == "S7")
        #expect(catalog.index(of: "S99") == nil)
    }
}
