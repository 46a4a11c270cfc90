import ConfigFiles
import Ledger
import TestSupport
import Testing

@Suite struct InstrumentsFileTests {
    /// A file holding one instrument object, written as `fields` inside `{"instruments":[…]}`.
    func file(_ fields: String) -> String { #"{"instruments":[{"# + fields + "}]}" }

    /// The one-line message for a file that is refused, or nil when it loads.
    func refusal(_ text: String) -> String? {
        do { _ = try InstrumentsFile.parse(text, file: "i.json"); return nil } catch { return error.description }
    }

    let decimalBase = #""symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal""#

    @Test func theShippedFileLoads() throws {
        let catalog = try InstrumentsFile.load(path: repositoryRoot + "/config/instruments.json")
        #expect(catalog.all.map(\.symbol) == ["ESZ6", "TNZ6", "UBZ6", "ZBZ6", "ZFZ6", "ZNZ6", "ZTZ6"])
        let zn = try #require(catalog["ZNZ6"])
        #expect(zn == Instrument(symbol: "ZNZ6", product: "ZN", description: "10-Year T-Note Dec 2026",
                                 tick: Price(decimal: "0.015625")!, dollarsPerPoint: 1000, display: .thirtySeconds(parts: 2),
                                 dv01: Money(dollars: 72), tradingDayEndMinutes: 17 * 60, priceBandTicks: 320))
        let es = try #require(catalog["ESZ6"])
        #expect(es.display == .decimal(places: 2) && es.dv01 == nil && es.tick == Price(decimal: "0.25"))
    }

    @Test func readsEveryKey() throws {
        let catalog = try InstrumentsFile.parse(file(#"""
            "symbol":"ZNZ6","product":"ZN","description":"10y","tick":"1/64","dollarsPerPoint":1000,"format":"32nds",
            "thirtySecondParts":2,"dv01":"72.5","tradingDayEnd":"16:15","priceBandTicks":400,"ttInstrumentId":"123456",
            "ttPriceScale":100
            """#), file: "i.json")
        #expect(catalog["ZNZ6"] == Instrument(symbol: "ZNZ6", product: "ZN", description: "10y", tick: Price(decimal: "0.015625")!,
                                              dollarsPerPoint: 1000, display: .thirtySeconds(parts: 2), dv01: Money(decimal: "72.5"),
                                              tradingDayEndMinutes: 16 * 60 + 15, priceBandTicks: 400, ttInstrumentId: "123456",
                                              ttPriceScale: 100))
        #expect(catalog.instrument(ttId: "123456")?.symbol == "ZNZ6")
    }

    @Test func defaultsForOptionalKeys() throws {
        let x = try #require(try InstrumentsFile.parse(file(decimalBase), file: "i.json")["X"])
        #expect(x.description == "" && x.display == .decimal(places: 2) && x.dv01 == nil && x.tradingDayEndMinutes == 17 * 60)
        #expect(x.priceBandTicks == nil && x.ttInstrumentId == nil && x.ttPriceScale == nil)
        let bond = #""symbol":"B","product":"B","tick":"1/32","dollarsPerPoint":1000,"format":"32nds""#
        #expect(try InstrumentsFile.parse(file(bond), file: "i.json")["B"]?.display == .thirtySeconds(parts: 1))
    }

    /// As with the Foundation decoder this replaces: a bare array works, unknown keys are
    /// ignored, `null` is the same as leaving a key out, whole numbers may be written 1e3 or 1000.0.
    @Test func acceptsWhatTheFileAlwaysAccepted() throws {
        let bare = try InstrumentsFile.parse("[{" + decimalBase + "}]", file: "i.json")
        #expect(bare.all.map(\.symbol) == ["X"])
        let lenient = try InstrumentsFile.parse(#"{"//":"note","instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":5e1,"format":"decimal","places":2.0,"dv01":null,"colour":"red"}]}"#, file: "i.json")
        #expect(lenient == bare)
        #expect(try InstrumentsFile.parse(file(decimalBase + #","dv01":72"#), file: "i.json")["X"]?.dv01 == Money(dollars: 72))
    }

    @Test(arguments: [
        // Missing and mistyped keys.
        (#"{"instruments":[{"product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal"}]}"#,
         "i.json: instruments[0].symbol: missing required value"),
        (#"{"instruments":[{"symbol":"X","product":"X","dollarsPerPoint":50,"format":"decimal"}]}"#,
         "i.json: instruments[0].tick: missing required value"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":null,"dollarsPerPoint":50,"format":"decimal"}]}"#,
         "i.json: instruments[0].tick: missing required value"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":0.25,"dollarsPerPoint":50,"format":"decimal"}]}"#,
         "i.json: instruments[0].tick: wrong type: expected a string, found number"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":"50","format":"decimal"}]}"#,
         "i.json: instruments[0].dollarsPerPoint: wrong type: expected an integer, found string"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50.5,"format":"decimal"}]}"#,
         "i.json: instruments[0].dollarsPerPoint: wrong type: expected an integer, found 50.5"),
        (#"{"instruments":[{"symbol":7,"product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal"}]}"#,
         "i.json: instruments[0].symbol: wrong type: expected a string, found number"),
        (#"{"instruments":["X"]}"#, "i.json: instruments[0]: wrong type: expected an object, found string"),
        (#"{"instruments":{"X":{}}}"#, "i.json: instruments: wrong type: expected an array of objects, found object"),
        (#"{"instrument":[]}"#, "i.json: instruments: missing required value"),
        (#""instruments""#, #"i.json: wrong type: expected {"instruments": [...]} or an array of instruments, found string"#),
        // Bad values.
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"x","dollarsPerPoint":50,"format":"decimal"}]}"#,
         #"i.json: instruments[0].tick: not a tick: "x" (expected an exact positive fraction such as "1/64" or a decimal such as "0.25")"#),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"1/3","dollarsPerPoint":1,"format":"decimal"}]}"#,
         #"i.json: instruments[0].tick: not a tick: "1/3" (expected an exact positive fraction such as "1/64" or a decimal such as "0.25")"#),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"1/256","dollarsPerPoint":1000,"format":"32nds","thirtySecondParts":2}]}"#,
         "i.json: instruments[0].tick: 1/256 is finer than the display (1/64 point)"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"1/64","dollarsPerPoint":1000,"format":"32nds","thirtySecondParts":3}]}"#,
         "i.json: instruments[0].thirtySecondParts: must be 1, 2, 4 or 8, got 3"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":0,"format":"decimal"}]}"#,
         "i.json: instruments[0].dollarsPerPoint: must be a positive integer, got 0"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"weird"}]}"#,
         "i.json: instruments[0].format: bad value 'weird' (allowed: 32nds, decimal)"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal","places":9}]}"#,
         "i.json: instruments[0].places: out of range: 9 (allowed 0...8)"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal","tradingDayEnd":"5pm"}]}"#,
         #"i.json: instruments[0].tradingDayEnd: not a time of day: "5pm" (expected HH:MM, such as "17:00")"#),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal","dv01":72.5}]}"#,
         #"i.json: instruments[0].dv01: wrong type: expected a decimal string such as "72.5" or whole dollars, found 72.5"#),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal","dv01":"x"}]}"#,
         #"i.json: instruments[0].dv01: not a decimal: "x" (exact to 8 places)"#),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal","priceBandTicks":-1}]}"#,
         "i.json: instruments[0].priceBandTicks: must be a positive integer, got -1"),
        (#"{"instruments":[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal","ttPriceScale":0}]}"#,
         "i.json: instruments[0].ttPriceScale: must be a positive integer, got 0"),
        (#"[{"symbol":"X","product":"X","tick":"0.25","dollarsPerPoint":50,"format":"decimal"},{"symbol":"X","product":"Y","tick":"0.5","dollarsPerPoint":5,"format":"decimal"}]"#,
         "i.json: [1].symbol: instrument X is defined twice (also [0])"),
        (#"{"instruments":[]}"#, "i.json: instruments: no instruments configured"),
        (#"[]"#, "i.json: no instruments configured"),
        ("{instruments: []}", "i.json: invalid JSON at line 1, column 2: expected a quoted key"),
    ])
    func refusesBadFilesNamingTheKey(text: String, message: String) {
        #expect(refusal(text) == message)
    }

    @Test func aMissingFileSaysSo() {
        #expect(throws: ConfigError(file: "/nonexistent/instruments.json", path: "", message: "cannot read: No such file or directory")) {
            try InstrumentsFile.load(path: "/nonexistent/instruments.json")
        }
    }
}
