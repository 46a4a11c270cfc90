import Bytes
@testable import Ledger

/// An independent oracle written the slow, obvious way: it keeps the log of accepted events and
/// recomputes every position from scratch on demand with a flat list of lots and money summed
/// match by match. It shares no state or code path with `Ledger` beyond the value types.
struct NaiveLedger {
    let catalog: InstrumentCatalog
    let config: LedgerConfig
    var log: [LedgerEvent] = []

    /// Accepts or refuses an event the way the rules say (returns the error code, nil = accepted).
    mutating func offer(_ event: LedgerEvent) -> String? {
        let world = replay()
        switch event {
        case .fill(let fill):
            if catalog[fill.instrument] == nil { return "unknown_instrument" }
            if world.fills[fill.execId] != nil { return "duplicate_exec_id" }
        case .bust(let execId, _), .correct(let execId, _, _, _):
            guard let known = world.fills[execId] else { return "unknown_fill" }
            if known.busted { return "fill_already_busted" }
            if known.day != world.day { return "fill_in_closed_day" }
            if case .correct(_, _, let price?, _) = event, !catalog[known.fill.instrument]!.isOnGrid(price) { return "price_off_grid" }
        default:
            break
        }
        log.append(event)
        return nil
    }

    struct KnownFill {
        var fill: Fill
        var arrival: Int
        var busted = false
        var day: Int
    }

    struct Key: Hashable, Comparable {
        var account: String
        var instrument: String
        static func < (a: Key, b: Key) -> Bool { (a.account, a.instrument) < (b.account, b.instrument) }
    }

    struct World {
        var fills: [String: KnownFill] = [:]
        var sod: [Key: [Lot]] = [:]
        var keys: Set<Key> = []
        var marks: [String: Price] = [:]
        var carried: [String: (time: Nanos, arrival: Int, price: Price)] = [:]
        var day = 0
    }

    func replay() -> World {
        var world = World()
        var arrival = 0
        for event in log {
            switch event {
            case .fill(let fill):
                world.fills[fill.execId] = KnownFill(fill: fill, arrival: arrival, day: world.day)
                arrival += 1
                world.keys.insert(Key(account: fill.account, instrument: fill.instrument))
            case .bust(let execId, _):
                world.fills[execId]!.busted = true
            case .correct(let execId, let qty, let price, _):
                if let qty { world.fills[execId]!.fill.qty = qty }
                if let price { world.fills[execId]!.fill.price = price }
            case .mark(let instrument, let price, _, _):
                world.marks[instrument] = price
            case .order:
                break
            case .sod(let account, let instrument, let qty, let price, _):
                let key = Key(account: account, instrument: instrument)
                world.keys.insert(key)
                world.sod[key] = qty == 0 ? [] : [Lot(qty: qty, price: price)]
            case .dayRoll:
                var next: [Key: [Lot]] = [:]
                for key in world.keys {
                    let (lots, _) = evaluate(key, world)
                    let net = lots.reduce(0) { $0 + $1.qty }
                    if let settle = world.marks[key.instrument] {
                        next[key] = net == 0 ? [] : [Lot(qty: net, price: settle)]
                    } else {
                        next[key] = lots
                    }
                }
                for symbol in Set(world.keys.map(\.instrument)) {
                    if let trade = latestToday(symbol, world) { world.carried[symbol] = trade }
                }
                world.sod = next
                world.day += 1
            }
        }
        return world
    }

    func todaysFills(_ key: Key, _ world: World) -> [KnownFill] {
        world.fills.values
            .filter { $0.fill.account == key.account && $0.fill.instrument == key.instrument && !$0.busted && $0.day == world.day }
            .sorted { ($0.fill.time, $0.arrival) < ($1.fill.time, $1.arrival) }
    }

    func latestToday(_ symbol: String, _ world: World) -> (time: Nanos, arrival: Int, price: Price)? {
        let candidates = world.fills.values.filter { $0.fill.instrument == symbol && !$0.busted && $0.day == world.day }
        guard let best = candidates.max(by: { ($0.fill.time, $0.arrival) < ($1.fill.time, $1.arrival) }) else { return nil }
        return (best.fill.time, best.arrival, best.fill.price)
    }

    /// Open lots and realized money (1e-8 dollars) of one book.
    func evaluate(_ key: Key, _ world: World) -> (lots: [Lot], realized: Int64) {
        let fifo = config.method(for: key.account) == .fifo
        let dollars = catalog[key.instrument]!.dollarsPerPoint
        var lots = world.sod[key] ?? []
        var realized: Int64 = 0
        for known in todaysFills(key, world) {
            var want = known.fill.side == .buy ? known.fill.qty : -known.fill.qty
            while want != 0, let pick = fifo ? lots.indices.first : lots.indices.last, (lots[pick].qty > 0) != (want > 0) {
                let take = min(abs(want), abs(lots[pick].qty))
                let lotSign: Int64 = lots[pick].qty > 0 ? 1 : -1
                realized += (known.fill.price.units - lots[pick].price.units) * take * lotSign * dollars
                lots[pick].qty -= take * lotSign
                want += take * lotSign
                if lots[pick].qty == 0 { lots.remove(at: pick) }
            }
            if want != 0 { lots.append(Lot(qty: want, price: known.fill.price)) }
        }
        return (lots, realized)
    }

    static func nearest(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        // Halves away from zero, via doubled magnitudes.
        let n = Int128(numerator), d = Int128(denominator)
        let magnitude = (2 * n.magnitude + d.magnitude) / (2 * d.magnitude)
        return Int64((n < 0) != (d < 0) ? -Int128(magnitude) : Int128(magnitude))
    }

    var positions: [PositionLine] {
        let world = replay()
        return world.keys.sorted().map { key in
            let instrument = catalog[key.instrument]!
            let (lots, realized) = evaluate(key, world)
            let today = todaysFills(key, world)
            let sodLots = world.sod[key] ?? []
            var line = PositionLine(account: key.account, instrument: key.instrument)
            line.sodQty = sodLots.reduce(0) { $0 + $1.qty }
            if line.sodQty != 0 {
                line.sodPrice = Price(units: NaiveLedger.nearest(sodLots.reduce(0) { $0 + $1.qty * $1.price.units }, line.sodQty))
            }
            line.bought = today.filter { $0.fill.side == .buy }.reduce(0) { $0 + $1.fill.qty }
            line.sold = today.filter { $0.fill.side == .sell }.reduce(0) { $0 + $1.fill.qty }
            line.net = lots.reduce(0) { $0 + $1.qty }
            if line.net != 0 {
                line.avgPrice = Price(units: NaiveLedger.nearest(lots.reduce(0) { $0 + $1.qty * $1.price.units }, line.net))
            }
            if let mark = world.marks[key.instrument] {
                line.mark = mark; line.markSource = .mark
            } else if let trade = latestToday(key.instrument, world) ?? world.carried[key.instrument] {
                line.mark = trade.price; line.markSource = .lastFill
            } else if let sodPrice = line.sodPrice {
                line.mark = sodPrice; line.markSource = .sod
            }
            line.realized = Money(units: realized)
            if let mark = line.mark {
                line.unrealized = Money(units: lots.reduce(0) { $0 + (mark.units - $1.price.units) * $1.qty * instrument.dollarsPerPoint })
            }
            line.total = Money(units: line.realized.units + line.unrealized.units)
            line.dv01 = Money(units: (instrument.dv01?.units ?? 0) * line.net)
            line.lastFillTime = today.map(\.fill.time).max()
            return line
        }
    }

    var accounts: [AccountTotals] {
        Dictionary(grouping: positions, by: \.account).sorted { $0.key < $1.key }.map { account, lines in
            var totals = AccountTotals(account: account, lossLimit: config.lossLimit(for: account))
            totals.realized = Money(units: lines.reduce(0) { $0 + $1.realized.units })
            totals.unrealized = Money(units: lines.reduce(0) { $0 + $1.unrealized.units })
            totals.total = Money(units: lines.reduce(0) { $0 + $1.total.units })
            totals.netContracts = lines.reduce(0) { $0 + $1.net }
            totals.grossContracts = lines.reduce(0) { $0 + abs($1.net) }
            totals.dv01 = Money(units: lines.reduce(0) { $0 + $1.dv01.units })
            totals.limitUsed = Money(units: max(0, -totals.total.units))
            if let limit = totals.lossLimit {
                totals.limitState = totals.limitUsed >= limit ? .breached
                    : (totals.limitUsed.units * 5 >= limit.units * 4 ? .warning : .ok)
            }
            return totals
        }
    }

    var desk: DeskTotals {
        let lines = positions
        return DeskTotals(realized: Money(units: lines.reduce(0) { $0 + $1.realized.units }),
                          unrealized: Money(units: lines.reduce(0) { $0 + $1.unrealized.units }),
                          total: Money(units: lines.reduce(0) { $0 + $1.total.units }),
                          grossContracts: lines.reduce(0) { $0 + abs($1.net) },
                          dv01: Money(units: lines.reduce(0) { $0 + $1.dv01.units }))
    }
}
