import Bytes
import Ledger

/// A random but plausible stream on the default instruments: fills near a walking price, marks,
/// busts and corrections of earlier fills, SOD lots, and a day roll now and then.
enum RandomEvents {
    static func generate(catalog: InstrumentCatalog, count: Int, random: inout SeededRandom) -> [LedgerEvent] {
        let accounts = ["ACC1", "ACC2", "ACC3", "DESK-HEDGE", "Désk \"β\""]
        let instruments = catalog.all
        var walk = Array(repeating: Int64(0), count: instruments.count)
        var execIds: [String] = []
        var events: [LedgerEvent] = []
        var time: Nanos = 1_795_530_600_000_000_000
        for n in 0..<count {
            time += Int64(random.below(5_000)) * 1_000_000 + Int64(random.below(1_000_000))
            let slot = random.below(instruments.count)
            let instrument = instruments[slot]
            walk[slot] = max(-60, min(60, walk[slot] + Int64(random.below(7)) - 3))
            let base: Int64 = (instrument.product == "ES" ? 6000 : 110) * Price.unitsPerPoint
            let price = Price(units: base + walk[slot] * instrument.tick.units)
            let account = accounts[random.below(accounts.count)]
            switch random.below(100) {
            case 0..<70:
                let execId = "E\(n)"
                execIds.append(execId)
                events.append(.fill(Fill(execId: execId, account: account, instrument: instrument.symbol,
                                         side: random.below(2) == 0 ? .buy : .sell, qty: Int64(random.below(20) + 1),
                                         price: price, time: time, source: n % 2 == 0 ? "feed" : "tt")))
            case 70..<82:
                events.append(.mark(instrument: instrument.symbol, price: price, time: time, source: "feed"))
            case 82..<88 where !execIds.isEmpty:
                events.append(.bust(execId: execIds[random.below(execIds.count)], time: time))
            case 88..<95 where !execIds.isEmpty:
                let qty: Int64? = random.below(2) == 0 ? Int64(random.below(9) + 1) : nil
                let newPrice: Price? = random.below(2) == 0 || qty == nil ? price : nil
                events.append(.correct(execId: execIds[random.below(execIds.count)], qty: qty, price: newPrice, time: time))
            case 95..<99:
                events.append(.sod(account: account, instrument: instrument.symbol, qty: Int64(random.below(11)) - 5,
                                   price: price, time: time))
            default:
                events.append(.dayRoll(time: time))
            }
        }
        return events
    }
}
