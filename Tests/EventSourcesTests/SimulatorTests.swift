import JSON
import Testing
import Wire
@testable import EventSources

@Suite struct SimulatorTests {
    /// Replaces and cancels name only the order: its instrument as the new order gave it.
    var orderInstruments: [String: String] = [:]

    func price(_ message: ProducerMessage) -> (String, String)? {
        switch message {
        case .mark(let instrument, let price, _): return (instrument, price)
        case .fill(_, _, let instrument, _, _, let price, _, _): return (instrument, price)
        case .order(let order):
            guard let instrument = order.instrument ?? orderInstruments[order.orderId], let price = order.price else { return nil }
            return (instrument, price)
        default: return nil
        }
    }

    @Test mutating func everyPriceIsOnItsInstrumentsTickGrid() throws {
        let config = SimulatorConfig()
        var market = try SimulatedMarket(config: config)
        let ticks = Dictionary(uniqueKeysWithValues: config.instruments.map { ($0.symbol, ScaledDecimal($0.tick)!) })
        var marks: [String: ScaledDecimal] = [:]
        var fills = 0
        for _ in 0..<500 {
            for message in market.nextStep(seconds: 1) {
                if case .order(let order) = message, order.action == .new { orderInstruments[order.orderId] = order.instrument }
                if case .order(let order) = message, order.price == nil { continue }
                let (instrument, text) = try #require(price(message))
                let value = try #require(ScaledDecimal(text))
                let tick = try #require(ticks[instrument])
                #expect(value.wholeMultiple(of: tick) != nil, "\(instrument) \(text) is off the \(tick) grid")
                if case .mark = message { marks[instrument] = value }
                if case .fill(_, let account, _, let side, let qty, _, let time, let orderId) = message {
                    if orderId == nil { fills += 1 }
                    #expect(config.accounts.contains(account))
                    #expect(side == "buy" || side == "sell")
                    #expect((1...config.maxQty).contains(qty))
                    #expect(time == nil)
                    // Within 3 ticks of the instrument's current mark.
                    let distance = try #require(value.adding(ScaledDecimal(units: -marks[instrument]!.units, scale: marks[instrument]!.scale))?.wholeMultiple(of: tick))
                    #expect(abs(distance) <= 3)
                }
            }
        }
        #expect(fills > 700 && fills < 1300)   // about 2 a second
    }

    @Test func theSameSeedGivesTheSameDayAndTheCursorContinuesIt() throws {
        var first = try SimulatedMarket(config: SimulatorConfig())
        var second = try SimulatedMarket(config: SimulatorConfig())
        for _ in 0..<20 { #expect(first.nextStep(seconds: 1) == second.nextStep(seconds: 1)) }
        var resumed = try SimulatedMarket(config: SimulatorConfig(), cursor: first.cursor)
        #expect(resumed.nextStep(seconds: 1) == first.nextStep(seconds: 1))
        var other = SimulatorConfig()
        other.seed = 7
        var different = try SimulatedMarket(config: other)
        #expect(different.nextStep(seconds: 5) != second.nextStep(seconds: 5))
    }

    /// The orders the simulator sends are a consistent life: every replace, cancel and fill names a
    /// working order, with growing versions, its own account, instrument and side, and never more
    /// than it leaves; a resumed market continues the same orders.
    @Test func workingOrdersFillMoveAndEndConsistently() throws {
        var market = try SimulatedMarket(config: SimulatorConfig())
        struct Known { var account: String; var instrument: String; var side: String; var leaves: Int64; var filled: Int64; var version: Int64 }
        var orders: [String: Known] = [:]
        var counts = (new: 0, replace: 0, cancel: 0, fills: 0, filled: 0)
        for step in 0..<600 {
            if step == 300 { market = try SimulatedMarket(config: SimulatorConfig(), cursor: market.cursor) }
            for message in market.nextStep(seconds: 1) {
                switch message {
                case .order(let order):
                    switch order.action {
                    case .new:
                        #expect(orders[order.orderId] == nil && order.version == 1)
                        orders[order.orderId] = Known(account: order.account!, instrument: order.instrument!, side: order.side!,
                                                      leaves: order.qty!, filled: 0, version: 1)
                        counts.new += 1
                    case .replace:
                        var known = try #require(orders[order.orderId], "replace of an order that is not working")
                        #expect(order.version! > known.version)
                        known.version = order.version!
                        if let qty = order.qty { #expect(qty > known.filled); known.leaves = qty - known.filled }
                        orders[order.orderId] = known
                        counts.replace += 1
                    case .cancel, .reject:
                        let known = try #require(orders[order.orderId], "cancel of an order that is not working")
                        #expect(order.version! > known.version)
                        orders[order.orderId] = nil
                        counts.cancel += 1
                    }
                case .fill(_, let account, let instrument, let side, let qty, _, _, let orderId?):
                    var known = try #require(orders[orderId], "fill of an order that is not working")
                    #expect((known.account, known.instrument, known.side) == (account, instrument, side))
                    #expect(qty <= known.leaves)
                    known.leaves -= qty
                    known.filled += qty
                    counts.fills += 1
                    if known.leaves == 0 { orders[orderId] = nil; counts.filled += 1 } else { orders[orderId] = known }
                default:
                    break
                }
            }
            #expect(orders.count <= SimulatorConfig().maxWorkingOrders)
        }
        #expect(counts.new > 100 && counts.replace > 20 && counts.cancel > 10 && counts.fills > 50 && counts.filled > 20, "\(counts)")
    }

    @Test func anOldCursorWithoutOrdersIsStillRead() throws {
        let market = try SimulatedMarket(config: SimulatorConfig(), cursor: "5;123;6590,13761,7072,3698,24049")
        #expect(market.fillCount == 5 && market.working.isEmpty && market.orderCount == 0)
    }

    @Test func configurationErrorsAreExplicit() {
        var config = SimulatorConfig()
        config.instruments = [SimulatedInstrument(symbol: "ZNZ6", tick: "0.015625", start: "110.51")]
        #expect(throws: SimulatorError(message: "ZNZ6: start '110.51' is not on the 0.015625 grid")) { try SimulatedMarket(config: config) }
        #expect(throws: SimulatorError.self) { try SimulatedMarket(config: SimulatorConfig(), cursor: "garbage") }
    }

    @Test func runSubmitsWithTheCursorAndARestartNeverReusesAnExecId() throws {
        let sink = RecordingSink()
        for _ in 0..<2 {
            let stopping = StopSignal()
            let clock = ManualClock(afterSleep: { count, _ in if count == 10 { stopping.stop() } })
            try SimulatorMonitor(config: SimulatorConfig(), clock: clock).run(sink: sink, status: StatusLog(), stopping: stopping)
            #expect(clock.sleeps.allSatisfy { $0 == 1 * second })
        }
        #expect(sink.submissions.count == 20)
        #expect(sink.submissions.allSatisfy { $0.source == "sim" && $0.cursor != nil })
        #expect(sink.duplicateCount == 0)
        #expect(sink.fills.count > 20)
    }
}
