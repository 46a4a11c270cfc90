import Bytes
import ConfigFiles
import Journal
import Ledger
import Testing
@testable import Ingest

/// The price text of the journal's fill, mark and SOD rows is written by the subscriber writer's
/// `priceText`; it must stay `Instrument.format(price, style: .tt)`, else the exact decimal.
@Suite struct MessageTranslationTests {
    @Test func rowPriceTextIsTheInstrumentsTTFormatOrTheExactDecimal() throws {
        let catalog = try InstrumentsFile.load(path: PipelineHarness.repositoryFile("config/instruments.json"))
        let translation = MessageTranslation(catalog: catalog)
        var random = SeededRandom(seed: 31)
        var prices: [Int64] = [0, 1, -1, 390_625, -390_625, 3_125_000, 100_000_000, -100_000_000, 11_057_812_500,
                               Int64.max, Int64.min, 601_250_000_000, 601_225_000_000]
        for _ in 0..<3_000 {
            let points = Int64(random.below(20_000)) - 2_000
            prices.append(points * 100_000_000 + Int64(random.below(256)) * 390_625)   // on the 1/256 grid
            prices.append(points * 100_000_000 + Int64(random.below(100_000_000)))    // anywhere
            prices.append(Int64(bitPattern: random.next()))
        }
        for symbol in catalog.all.map(\.symbol) + ["NOT-LISTED"] {
            for units in prices {
                let price = Price(units: units)
                #expect(translation.display(price, symbol) == catalog[symbol]?.format(price, style: .tt) ?? price.decimalString,
                        "\(symbol) \(units)")
            }
        }
    }

    @Test func aFillsRowCarriesItsPriceText() throws {
        let catalog = try InstrumentsFile.load(path: PipelineHarness.repositoryFile("config/instruments.json"))
        let translation = MessageTranslation(catalog: catalog)
        var ledger = Ledger(catalog: catalog, config: LedgerConfig())
        let fill = Fill(execId: "E1", account: "A", instrument: "ZNZ6", side: .buy, qty: 2, price: Price(units: 11_026_562_500),
                        time: 5, source: "feed")
        _ = try ledger.apply(.fill(fill))
        let row = translation.journalEvent(for: .fill(fill), ledgerAfter: ledger, deltas: .binary([1, 0]), source: "feed")
        #expect(row.fill?.price == catalog["ZNZ6"]?.format(fill.price, style: .tt))
        #expect(row.fill?.price == "110'085")
    }
}
