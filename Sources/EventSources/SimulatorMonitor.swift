import Bytes
import JSON
import Wire

/// Mock trading (`sim` source): each instrument's mark walks its tick grid, fills arrive at
/// about `fillsPerSecond` a few ticks around the mark, for random configured accounts, and
/// working orders rest a few ticks away: they fill (in parts, naming their orderId) when the mark
/// reaches them, move towards the market now and then, and are cancelled. Seeded; the generator
/// state, counters, marks and working orders are the cursor, so a restart continues the same
/// sequence without reusing an execId or an order version.
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

    /// A working order of the simulated market.
    public struct WorkingOrder: Sendable, Equatable {
        public var number: Int64
        public var instrument: Int
        public var account: Int
        public var buy: Bool
        public var priceTicks: Int64
        public var qty: Int64
        public var filled: Int64
        public var version: Int64
        public var leaves: Int64 { qty - filled }
    }

    public private(set) var instruments: [Instrument]
    public private(set) var random: SeededRandom
    public private(set) var fillCount: Int64 = 0
    public private(set) var orderCount: Int64 = 0
    public private(set) var working: [WorkingOrder] = []
    private let accounts: [String]
    private let fillsPerSecond: Double
    private let ordersPerSecond: Double
    private let maxWorkingOrders: Int
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
        ordersPerSecond = max(0, config.ordersPerSecond)
        maxWorkingOrders = max(0, config.maxWorkingOrders)
        maxQty = max(1, config.maxQty)
        seed = config.seed
        random = SeededRandom(seed: config.seed)
        if let cursor { try restore(cursor) }
    }

    /// `"<fills>;<generator state>;<mark ticks,…>;<orders>;<working order,…>"`, a working order as
    /// `number:instrument:account:b|s:priceTicks:qty:filled:version`. A cursor of the first three
    /// parts (before working orders existed) is still read.
    public var cursor: String {
        "\(fillCount);\(random.state);" + instruments.map { String($0.markTicks) }.joined(separator: ",")
            + ";\(orderCount);" + working.map {
                "\($0.number):\($0.instrument):\($0.account):\($0.buy ? "b" : "s"):\($0.priceTicks):\($0.qty):\($0.filled):\($0.version)"
            }.joined(separator: ",")
    }

    private mutating func restore(_ cursor: String) throws(SimulatorError) {
        let parts = cursor.split(separator: ";", omittingEmptySubsequences: false)
        let bad = SimulatorError(message: "stored cursor '\(cursor)' does not match the configured instruments")
        let marks = parts.count >= 3 ? parts[2].split(separator: ",").compactMap { Int64($0) } : []
        guard parts.count == 3 || parts.count == 5, let count = Int64(parts[0]), let state = UInt64(parts[1]),
              marks.count == instruments.count else { throw bad }
        fillCount = count
        random.state = state
        for index in instruments.indices { instruments[index].markTicks = marks[index] }
        guard parts.count == 5 else { return }
        guard let orders = Int64(parts[3]) else { throw bad }
        orderCount = orders
        for item in parts[4].split(separator: ",") {
            let fields = item.split(separator: ":").map(String.init)
            guard fields.count == 8, let number = Int64(fields[0]), let instrument = Int(fields[1]), instruments.indices.contains(instrument),
                  let account = Int(fields[2]), accounts.indices.contains(account), let price = Int64(fields[4]),
                  let qty = Int64(fields[5]), let filled = Int64(fields[6]), let version = Int64(fields[7]) else { throw bad }
            working.append(WorkingOrder(number: number, instrument: instrument, account: account, buy: fields[3] == "b",
                                        priceTicks: price, qty: qty, filled: filled, version: version))
        }
    }

    private func orderId(_ order: WorkingOrder) -> String { "SIMO-\(seed)-\(order.number)" }

    /// Working orders after the marks moved: each one the mark reached fills in part or whole,
    /// some move towards the market or are cancelled, and new ones are placed.
    private mutating func stepOrders(seconds: Double, into messages: inout [ProducerMessage]) {
        var kept: [WorkingOrder] = []
        for var order in working {
            let instrument = instruments[order.instrument]
            let reached = order.buy ? instrument.markTicks <= order.priceTicks : instrument.markTicks >= order.priceTicks
            if reached {
                let qty = Int64.random(in: 1...order.leaves, using: &random)
                fillCount += 1
                order.filled += qty
                messages.append(.fill(execId: "SIM-\(seed)-\(fillCount)", account: accounts[order.account],
                                      instrument: instrument.symbol, side: order.buy ? "buy" : "sell", qty: qty,
                                      price: (instrument.tick.multiplied(by: order.priceTicks) ?? instrument.mark).description,
                                      time: nil, orderId: orderId(order)))
                if order.leaves > 0 { kept.append(order) }
                continue
            }
            let roll = Double.random(in: 0..<1, using: &random)
            if roll < 0.03 {
                order.version += 1
                messages.append(.order(OrderMessage(action: .cancel, orderId: orderId(order), version: order.version)))
                continue
            }
            if roll < 0.08 {
                // Chase the market: back to 1–3 ticks from the mark, sometimes a new size.
                let away = Int64.random(in: 1...3, using: &random)
                order.priceTicks = max(1, instrument.markTicks + (order.buy ? -away : away))
                order.version += 1
                var replace = OrderMessage(action: .replace, orderId: orderId(order), version: order.version,
                                           price: (instrument.tick.multiplied(by: order.priceTicks) ?? instrument.mark).description)
                if Bool.random(using: &random) {
                    order.qty = order.filled + Int64.random(in: 1...maxQty, using: &random)
                    replace.qty = order.qty
                }
                messages.append(.order(replace))
            }
            kept.append(order)
        }
        working = kept
        let expected = ordersPerSecond * seconds
        var count = Int(expected)
        if Double.random(in: 0..<1, using: &random) < expected - Double(count) { count += 1 }
        for _ in 0..<count where working.count < maxWorkingOrders {
            let index = Int.random(in: 0..<instruments.count, using: &random)
            let buy = Bool.random(using: &random)
            let away = Int64.random(in: 1...6, using: &random)
            orderCount += 1
            let order = WorkingOrder(number: orderCount, instrument: index, account: Int.random(in: 0..<accounts.count, using: &random),
                                     buy: buy, priceTicks: max(1, instruments[index].markTicks + (buy ? -away : away)),
                                     qty: Int64.random(in: 1...maxQty, using: &random), filled: 0, version: 1)
            working.append(order)
            messages.append(.order(OrderMessage(action: .new, orderId: orderId(order), version: 1, account: accounts[order.account],
                                                instrument: instruments[index].symbol, side: buy ? "buy" : "sell", qty: order.qty,
                                                price: (instruments[index].tick.multiplied(by: order.priceTicks) ?? instruments[index].mark).description)))
        }
    }

    /// One interval: every mark moves by −1, 0 or +1 tick, working orders fill, move, end or
    /// start (`stepOrders`), then about `fillsPerSecond × seconds` fills within 3 ticks of their
    /// instrument's mark.
    public mutating func nextStep(seconds: Double) -> [ProducerMessage] {
        var messages: [ProducerMessage] = []
        for index in instruments.indices {
            instruments[index].markTicks = max(1, instruments[index].markTicks + Int64.random(in: -1...1, using: &random))
            messages.append(.mark(instrument: instruments[index].symbol, price: instruments[index].mark.description, time: nil))
        }
        stepOrders(seconds: seconds, into: &messages)
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
