import JSON
import Testing
import Wire
@testable import EventSources

@Suite struct SimulatorTests {
    func price(_ message: ProducerMessage) -> (String, String)? {
        switch message {
        case .mark(let instrument, let price, _): return (instrument, price)
        case .fill(_, _, let instrument, _, _, let price, _, _): return (instrument, price)
        default: return nil
        }
    }

    @Test func everyPriceIsOnItsInstrumentsTickGrid() throws {
        let config = SimulatorConfig()
        var market = try SimulatedMarket(config: config)
        let ticks = Dictionary(uniqueKeysWithValues: config.instruments.map { ($0.symbol, ScaledDecimal($0.tick)!) })
        var marks: [String: ScaledDecimal] = [:]
        var fills = 0
        for _ in 0..<500 {
            for message in market.nextStep(seconds: 1) {
                let (instrument, text) = try #require(price(message))
                let value = try #require(ScaledDecimal(text))
                let tick = try #require(ticks[instrument])
                #expect(value.wholeMultiple(of: tick) != nil, "\(instrument) \(text) is off the \(tick) grid")
                if case .mark = message { marks[instrument] = value }
                if case .fill(_, let account, _, let side, let qty, _, let time, _) = message {
                    fills += 1
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
