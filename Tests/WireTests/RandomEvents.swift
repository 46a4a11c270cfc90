import Bytes
import Ledger

/// A random but plausible stream on the default instruments: fills near a walking price, marks,
/// busts and corrections of earlier fills, SOD lots, working orders (new, replace, cancel,
/// reject, and fills that name them), and a day roll now and then.
enum RandomEvents {
    static func generate(catalog: InstrumentCatalog, count: Int, random: inout SeededRandom) -> [LedgerEvent] {
        let accounts = ["ACC1", "ACC2", "ACC3", "DESK-HEDGE", "Désk \"β\""]
        let instruments = catalog.all
        var walk = Array(repeating: Int64(0), count: instruments.count)
        var execIds: [String] = []
        var orders: [(id: String, account: String, instrument: String, side: Side, version: Int64)] = []
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
            case 0..<12 where !orders.isEmpty:
                // A fill of a working order (its account, instrument and side).
                let order = orders[random.below(orders.count)]
                let execId = "E\(n)"
                execIds.append(execId)
                let onGrid = catalog[order.instrument]!
                let orderBase: Int64 = (onGrid.product == "ES" ? 6000 : 110) * Price.unitsPerPoint
                events.append(.fill(Fill(execId: execId, account: order.account, instrument: order.instrument, side: order.side,
                                         qty: Int64(random.below(4) + 1), price: Price(units: orderBase), time: time,
                                         source: "tt", orderId: order.id)))
            case 12..<20:
                let side: Side = random.below(2) == 0 ? .buy : .sell
                let id = "O\(n)"
                orders.append((id, account, instrument.symbol, side, 1))
                events.append(.order(OrderEvent(action: .new, orderId: id, version: 1, account: account, instrument: instrument.symbol,
                                                side: side, qty: Int64(random.below(9) + 1), price: price, time: time, source: "feed")))
            case 20..<26 where !orders.isEmpty:
                let pick = random.below(orders.count)
                orders[pick].version += 1
                let order = orders[pick]
                let action: OrderEvent.Action = [.replace, .replace, .cancel, .reject][random.below(4)]
                let onGrid = catalog[order.instrument]!
                let orderBase: Int64 = (onGrid.product == "ES" ? 6000 : 110) * Price.unitsPerPoint
                events.append(.order(OrderEvent(action: action, orderId: order.id, version: order.version,
                                                qty: action == .replace ? Int64(random.below(12) + 1) : nil,
                                                price: action == .replace ? Price(units: orderBase + Int64(random.below(5)) * onGrid.tick.units) : nil,
                                                time: time, source: "feed")))
                if action != .replace { orders.remove(at: pick) }
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
