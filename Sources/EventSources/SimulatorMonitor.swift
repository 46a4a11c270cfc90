import Bytes
import JSON
import Wire

/// Mock trading (`sim` source): each instrument's mark walks its tick grid, and fills arrive at
/// about `fillsPerSecond` a few ticks around the mark, for random configured accounts. Seeded;
/// the generator state, fill counter and marks are the cursor, so a restart continues the same
/// sequence without reusing an execId.
public final class SimulatorMonitor: Monitor {
    public let name: String
    private let config: SimulatorConfig
    private let clock: any MonitorClock
    private let submitTimeoutSeconds: Int

    public init(config: SimulatorConfig, name: String = "sim", clock: any MonitorClock = SystemClock(),
                submitTimeoutSeconds: Int = 30) {
        self.name = name
        self.config = config
        self.clock = clock
        self.submitTimeoutSeconds = submitTimeoutSeconds
    }

    public func run(sink: any MessageSink, status: any MonitorStatusSink, stopping: StopSignal) throws {
        var market = try SimulatedMarket(config: config, cursor: sink.cursor(named: name))
        status.report(MonitorStatus(name: name, state: .running))
        let step = Int64(max(1, config.markIntervalMilliseconds)) * 1_000_000
        while !stopping.isStopped {
            let messages = market.nextStep(seconds: Double(step) / 1e9)
            let results = try submitAndWait(messages, to: sink, source: name, cursor: (name, market.cursor),
                                            timeoutSeconds: submitTimeoutSeconds)
            var counts = SubmissionCounts()
            counts.add(results, refs: messages.map(\.ref))
            status.report(MonitorStatus(name: name, state: .running, lastError: counts.lastRejection.map { "rejected \($0)" },
                                        lastSuccess: clock.now()))
            if !clock.sleep(nanoseconds: step, stopping: stopping) { return }
        }
    }
}

/// The simulator's state, separate from threads and sinks so it can be tested step by step.
public struct SimulatedMarket: Sendable, Equatable {
    public struct Instrument: Sendable, Equatable {
        public var symbol: String
        public var tick: ScaledDecimal
        /// The mark as a whole number of ticks.
        public var markTicks: Int64
        public var mark: ScaledDecimal { tick.multiplied(by: markTicks) ?? tick }
    }

    public private(set) var instruments: [Instrument]
    public private(set) var random: SeededRandom
    public private(set) var fillCount: Int64 = 0
    private let accounts: [String]
    private let fillsPerSecond: Double
    private let maxQty: Int64
    private let seed: UInt64

    public init(config: SimulatorConfig, cursor: String? = nil) throws(SimulatorError) {
        guard !config.accounts.isEmpty else { throw SimulatorError(message: "sources.sim.accounts is empty") }
        guard !config.instruments.isEmpty else { throw SimulatorError(message: "sources.sim.instruments is empty") }
        var instruments: [Instrument] = []
        for item in config.instruments {
            guard let tick = ScaledDecimal(item.tick), tick.units > 0 else {
                throw SimulatorError(message: "\(item.symbol): tick '\(item.tick)' is not a positive decimal")
            }
            guard let start = ScaledDecimal(item.start), let ticks = start.wholeMultiple(of: tick) else {
                throw SimulatorError(message: "\(item.symbol): start '\(item.start)' is not on the \(item.tick) grid")
            }
            instruments.append(Instrument(symbol: item.symbol, tick: tick, markTicks: ticks))
        }
        self.instruments = instruments
        accounts = config.accounts
        fillsPerSecond = max(0, config.fillsPerSecond)
        maxQty = max(1, config.maxQty)
        seed = config.seed
        random = SeededRandom(seed: config.seed)
        if let cursor { try restore(cursor) }
    }

    /// `"<fills>;<generator state>;<mark ticks,…>"`.
    public var cursor: String {
        "\(fillCount);\(random.state);" + instruments.map { String($0.markTicks) }.joined(separator: ",")
    }

    private mutating func restore(_ cursor: String) throws(SimulatorError) {
        let parts = cursor.split(separator: ";", omittingEmptySubsequences: false)
        let marks = parts.count == 3 ? parts[2].split(separator: ",").compactMap { Int64($0) } : []
        guard parts.count == 3, let count = Int64(parts[0]), let state = UInt64(parts[1]), marks.count == instruments.count else {
            throw SimulatorError(message: "stored cursor '\(cursor)' does not match the configured instruments")
        }
        fillCount = count
        random.state = state
        for index in instruments.indices { instruments[index].markTicks = marks[index] }
    }

    /// One interval: every mark moves by −1, 0 or +1 tick, then about `fillsPerSecond × seconds`
    /// fills within 3 ticks of their instrument's mark.
    public mutating func nextStep(seconds: Double) -> [ProducerMessage] {
        var messages: [ProducerMessage] = []
        for index in instruments.indices {
            instruments[index].markTicks = max(1, instruments[index].markTicks + Int64.random(in: -1...1, using: &random))
            messages.append(.mark(instrument: instruments[index].symbol, price: instruments[index].mark.description, time: nil))
        }
        // Whole expected fills, plus one more with the fractional part's probability.
        let expected = fillsPerSecond * seconds
        var fills = Int(expected)
        if Double.random(in: 0..<1, using: &random) < expected - Double(fills) { fills += 1 }
        for _ in 0..<fills {
            let instrument = instruments[Int.random(in: 0..<instruments.count, using: &random)]
            let ticks = max(1, instrument.markTicks + Int64.random(in: -3...3, using: &random))
            fillCount += 1
            messages.append(.fill(execId: "SIM-\(seed)-\(fillCount)",
                                  account: accounts[Int.random(in: 0..<accounts.count, using: &random)],
                                  instrument: instrument.symbol,
                                  side: Bool.random(using: &random) ? "buy" : "sell",
                                  qty: Int64.random(in: 1...maxQty, using: &random),
                                  price: (instrument.tick.multiplied(by: ticks) ?? instrument.mark).description,
                                  time: nil))
        }
        return messages
    }
}

public struct SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
