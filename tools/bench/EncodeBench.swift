import Bytes
import ConfigFiles
import Foundation
import JSON
import Ledger
import Wire

/// `ladderwire-bench encode [--fills N] [--passes P] [--path all|messages|json|text|parse|deltas|none] [--instruments FILE]`
///
/// Applies N generated fills (a mark every 100) to a LIFO ledger over 15 accounts × the default
/// instruments (105 books, the size of the snapshot storm), keeps every fill's deltas, then times
/// only the encoding of those deltas, best of P passes:
/// - messages: `MessageEncoder.messages(for:seq:)` as the ingest thread calls it (the JSON bytes,
///             the frame, the `OutboundMessage`);
/// - json:     `MessageEncoder.json(_:)` alone, the one JSON writer;
/// - text:     `TextRenderer.line(_:)`, what a text subscriber costs on first use;
/// - parse:    `ProducerMessage.parse(json:)` of N fill messages of the sample day (each with its
///             own execId), what `/feed` does with every frame before the ledger sees it;
/// - deltas:   `DeltaCoding.encode(_:)` of each fill's deltas, the binary form the journal row keeps.
/// Then a snapshot body (105 positions, accounts, desk, marks, 200 fills).
/// `--path messages|json|text|parse|deltas|none` runs one path once, for `valgrind --tool=callgrind`:
/// instructions per fill = (Ir of the path − Ir of `none`) / N (`none` prepares the same inputs).
func runEncodeBench(arguments: [String]) {
    var fillCount = 20_000
    var passes = 5
    var path = "all"
    var instrumentsPath = "config/instruments.json"
    var rest = arguments.first == "encode" ? Array(arguments.dropFirst()) : arguments
    while !rest.isEmpty {
        let flag = rest.removeFirst()
        guard let value = rest.first else { fail("\(flag) needs a value") }
        rest.removeFirst()
        switch flag {
        case "--fills": fillCount = positive(flag, value)
        case "--passes": passes = positive(flag, value)
        case "--path":
            guard ["all", "messages", "json", "text", "parse", "deltas", "none"].contains(value) else {
                fail("--path is all, messages, json, text, parse, deltas or none")
            }
            path = value
        case "--instruments": instrumentsPath = value
        default: fail("unknown flag \(flag) (--fills N, --passes P, --path all|messages|json|text|parse|deltas|none, --instruments FILE)")
        }
    }

    let catalog: InstrumentCatalog
    do { catalog = try InstrumentsFile.load(path: instrumentsPath) } catch { fail("\(error)") }
    let encoder = MessageEncoder(catalog: catalog)
    var ledger = Ledger(catalog: catalog, config: LedgerConfig(defaultMethod: .lifo, defaultLossLimit: Money(dollars: 25_000)))
    let perFill = generateDeltas(ledger: &ledger, fillCount: fillCount)
    let messageCount = perFill.reduce(0) { $0 + $1.count }
    let producerMessages = producerFillMessages(count: fillCount)

    switch path {
    case "none":
        print("encode bench: generated \(fillCount) fills, \(messageCount) messages, nothing encoded")
        return
    case "messages":
        print("encode bench: messages path once, checksum \(encodeMessages(encoder, perFill))")
        return
    case "json":
        print("encode bench: json path once, checksum \(encodeJSON(encoder, perFill))")
        return
    case "text":
        print("encode bench: text path once, checksum \(renderText(encoder, perFill))")
        return
    case "parse":
        print("encode bench: parse path once, checksum \(parseProducerMessages(producerMessages))")
        return
    case "deltas":
        print("encode bench: deltas path once, checksum \(encodeDeltas(perFill))")
        return
    default:
        break
    }

    print("encode bench: \(fillCount) fills, \(messageCount) messages (\(formatted(Double(messageCount) / Double(fillCount), 2)) per fill), best of \(passes)")
    let messages = best(passes) { encodeMessages(encoder, perFill) }
    let json = best(passes) { encodeJSON(encoder, perFill) }
    let text = best(passes) { renderText(encoder, perFill) }
    let parse = best(passes) { parseProducerMessages(producerMessages) }
    let deltas = best(passes) { encodeDeltas(perFill) }
    report("messages (json + frame + OutboundMessage)", messages, fills: fillCount, messages: messageCount)
    report("json only", json, fills: fillCount, messages: messageCount)
    report("text lines", text, fills: fillCount, messages: messageCount)
    print("  producer fill messages parsed: \(formatted(parse * 1e9 / Double(fillCount), 0)) ns/message")
    print("  journal deltas (DeltaCoding.encode): \(formatted(deltas * 1e9 / Double(fillCount), 0)) ns/fill")

    let snapshot = best(passes) { snapshotAsBytes(encoder, ledger) }
    print("snapshot body: \(ledger.positions.count) positions, \(ledger.accounts.count) accounts, \(ledger.marks.count) marks, 200 fills")
    print("  bytes        \(formatted(snapshot * 1e6, 1)) µs")
}

/// Each fill's deltas, as the ingest thread would hand them to the encoder.
private func generateDeltas(ledger: inout Ledger, fillCount: Int) -> [[LedgerDelta]] {
    let instruments = ledger.catalog.all
    var random = SeededRandom(seed: 42)
    var walk = Array(repeating: Int64(0), count: instruments.count)
    var perFill: [[LedgerDelta]] = []
    perFill.reserveCapacity(fillCount)
    let start: Nanos = 1_795_530_600_000_000_000
    for n in 0..<fillCount {
        let slot = Int(random.next() % UInt64(instruments.count))
        let instrument = instruments[slot]
        walk[slot] = max(-100, min(100, walk[slot] + Int64(random.next() % 5) - 2))
        let base: Int64 = (instrument.product == "ES" ? 6000 : 110) * Price.unitsPerPoint
        let price = Price(units: base + walk[slot] * instrument.tick.units)
        let time = start + Int64(n) * 1_000_123
        let fill = Fill(execId: "E\(n)", account: "ACC\(random.next() % 15)", instrument: instrument.symbol,
                        side: random.next() % 2 == 0 ? .buy : .sell, qty: Int64(random.next() % 10) + 1,
                        price: price, time: time, source: "bench")
        do {
            perFill.append(try ledger.apply(.fill(fill)))
            if n % 100 == 99 {
                _ = try ledger.apply(.mark(instrument: instrument.symbol, price: price, time: time, source: "bench"))
            }
        } catch { fail("\(error)") }
    }
    return perFill
}

/// N producer fill messages as `/feed` receives them: the sample day's fill lines in turn, each
/// with a fresh execId (the recording's `at` dropped, as the latency bench sends them).
private func producerFillMessages(count: Int) -> [String] {
    let feed: BenchFeed
    do { feed = try BenchFeed.load(path: BenchFeed.locateDefault(), includeMarks: false) } catch { fail("\(error)") }
    let tag = Array("P".utf8)
    return (0..<count).map { String(decoding: feed.payload(event: $0, runTag: tag), as: UTF8.self) }
}

private func parseProducerMessages(_ messages: [String]) -> Int {
    var checksum = 0
    for text in messages {
        do { checksum &+= try ProducerMessage.parse(json: text).ref.utf8.count } catch { fail("\(error.code): \(error.message)") }
    }
    return checksum
}

private func encodeDeltas(_ perFill: [[LedgerDelta]]) -> Int {
    var checksum = 0
    for deltas in perFill { checksum &+= DeltaCoding.encode(deltas).count }
    return checksum
}

private func encodeMessages(_ encoder: MessageEncoder, _ perFill: [[LedgerDelta]]) -> Int {
    var checksum = 0
    for (index, deltas) in perFill.enumerated() {
        for message in encoder.messages(for: deltas, seq: Int64(index + 1)) { checksum &+= message.jsonFrame.count }
    }
    return checksum
}

private func encodeJSON(_ encoder: MessageEncoder, _ perFill: [[LedgerDelta]]) -> Int {
    var checksum = 0
    for (index, deltas) in perFill.enumerated() {
        for delta in deltas { checksum &+= encoder.json(SubscriberMessage(delta, seq: Int64(index + 1))).count }
    }
    return checksum
}

private func renderText(_ encoder: MessageEncoder, _ perFill: [[LedgerDelta]]) -> Int {
    let renderer = TextRenderer(encoder: encoder)
    var checksum = 0
    for (index, deltas) in perFill.enumerated() {
        for delta in deltas { checksum &+= renderer.line(SubscriberMessage(delta, seq: Int64(index + 1))).utf8.count }
    }
    return checksum
}

private func snapshotAsBytes(_ encoder: MessageEncoder, _ ledger: Ledger) -> Int {
    let snapshot = Snapshot(seq: 1, epoch: "bench", resync: false, time: 0, positions: ledger.positions,
                            accounts: ledger.accounts, desk: ledger.desk, marks: ledger.marks,
                            fills: ledger.recentFills(limit: 200).map { ($0, nil) }, monitors: [], filter: SubscriptionFilter())
    return encoder.json(snapshot).count
}

/// Best CPU seconds of this thread over `passes` runs (the machine is shared: the minimum is
/// the figure least disturbed by neighbours).
private func best(_ passes: Int, _ body: () -> Int) -> Double {
    var fastest = Double.infinity
    var checksum = 0
    for _ in 0..<passes {
        let began = threadCPUSeconds()
        checksum &+= body()
        fastest = min(fastest, threadCPUSeconds() - began)
    }
    if checksum == 42 { print("") }  // keeps the work observable
    return fastest
}

private func report(_ name: String, _ seconds: Double, fills: Int, messages: Int) {
    print("  \(name): \(formatted(seconds * 1e9 / Double(fills), 0)) ns/fill, \(formatted(seconds * 1e9 / Double(messages), 0)) ns/message")
}

private func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

private func positive(_ flag: String, _ text: String) -> Int {
    guard let value = Int(text), value > 0 else { fail("\(flag) needs a positive integer") }
    return value
}

private func formatted(_ value: Double, _ places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return places == 0 ? String(Int(rounded)) : String(rounded)
}

private func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("encode bench: \(message)\n".utf8))
    exit(2)
}
