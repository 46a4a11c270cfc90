import Bytes
@testable import Ledger

/// Random but valid-looking event streams: fills with flips and partials, late fills, busts and
/// corrections (some of unknown, busted or closed-day fills), SOD, marks and day rolls.
struct EventGenerator {
    var random: SeededRandom
    var accounts = ["A", "B", "C"]
    var instruments = ["ZNZ6", "ZTZ6", "ESZ6"]
    var execIds: [String] = []
    var instrumentOf: [String: String] = [:]
    var now: Nanos = parseISO8601("2026-11-24T14:00:00Z")!
    var counter = 0

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func price(_ symbol: String) -> Price {
        let instrument = defaultCatalog[symbol]!
        let base: Int64 = symbol == "ESZ6" ? 6000 : (symbol == "ZTZ6" ? 102 : 110)
        return Price(units: base * Price.unitsPerPoint + random.between(-24, 24) * instrument.tick.units)
    }

    mutating func openingMarks() -> [LedgerEvent] {
        instruments.map { symbol in .mark(instrument: symbol, price: price(symbol), time: now, source: "gen") }
    }

    mutating func next() -> LedgerEvent {
        now += 1_000_000_000
        let roll = random.below(100)
        switch roll {
        case 0..<56:
            counter += 1
            let execId = "X\(counter)"
            execIds.append(execId)
            let symbol = random.pick(instruments)
            instrumentOf[execId] = symbol
            // One fill in eight arrives late (earlier time than fills already applied).
            let time = random.below(8) == 0 ? now - Int64(random.below(6)) * 1_000_000_000 : now
            return .fill(Fill(execId: execId, account: random.pick(accounts), instrument: symbol,
                              side: random.below(2) == 0 ? .buy : .sell, qty: random.between(1, 8),
                              price: price(symbol), time: time, source: "gen"))
        case 56..<66:
            let symbol = random.pick(instruments)
            return .mark(instrument: symbol, price: price(symbol), time: now, source: "gen")
        case 66..<75:
            let execId = execIds.isEmpty || random.below(12) == 0 ? "missing" : random.pick(execIds)
            return .bust(execId: execId, time: now)
        case 75..<84:
            let execId = execIds.isEmpty || random.below(12) == 0 ? "missing" : random.pick(execIds)
            let changeQty = random.below(2) == 0
            let changePrice = !changeQty || random.below(2) == 0
            let newPrice = changePrice ? price(instrumentOf[execId] ?? "ZNZ6") : nil
            return .correct(execId: execId, qty: changeQty ? random.between(1, 8) : nil, price: newPrice, time: now)
        case 84..<92:
            let symbol = random.pick(instruments)
            return .sod(account: random.pick(accounts), instrument: symbol, qty: random.between(-5, 5), price: price(symbol), time: now)
        case 92..<94:
            return .dayRoll(time: now)
        default:
            counter += 1
            let execId = "X\(counter)"
            execIds.append(execId)
            let symbol = random.pick(instruments)
            instrumentOf[execId] = symbol
            // A large sell: flips most positions.
            return .fill(Fill(execId: execId, account: random.pick(accounts), instrument: symbol, side: .sell,
                              qty: random.between(5, 15), price: price(symbol), time: now, source: "gen"))
        }
    }

    mutating func events(_ count: Int, openingMarks withMarks: Bool) -> [LedgerEvent] {
        (withMarks ? openingMarks() : []) + (0..<count).map { _ in next() }
    }
}
