import Bytes
import ConfigFiles
import Foundation
import JSON
import Ledger
import Wire

/// `ladderwire-bench encode [--fills N] [--passes P] [--path all|tree|bytes|encode|none] [--instruments FILE]`
///
/// Applies N generated fills (a mark every 100) to a LIFO ledger over 15 accounts × the default
/// instruments (105 books, the size of the snapshot storm), keeps every fill's deltas, then times
/// only the encoding of those deltas, best of P passes:
/// - tree:  `MessageEncoder.messages(for:seq:)` as the ingest thread calls it today (JSONValue
///          tree, String serialization, OutboundMessage with its JSON frame);
/// - bytes: `MessageEncoder.encode(_:seq:)` into `[UInt8]`, plus what wiring it costs: the JSON
///          frame (`Frames.text(bytes:)`) and the journal's `String`.
/// Then a snapshot body (105 positions, accounts, desk, marks, 200 fills) both ways.
/// `--path tree|bytes|encode|none` runs one path once (`encode`: bytes without frame and String), for `valgrind --tool=callgrind`: instructions per
/// fill = (Ir of the path − Ir of `none`) / N.
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
            guard ["all", "tree", "bytes", "encode", "none"].contains(value) else { fail("--path is all, tree, bytes, encode or none") }
            path = value
        case "--instruments": instrumentsPath = value
        default: fail("unknown flag \(flag) (--fills N, --passes P, --path all|tree|bytes|encode|none, --instruments FILE)")
        }
    }

    let catalog: InstrumentCatalog
    do { catalog = try InstrumentsFile.load(path: instrumentsPath) } catch { fail("\(error)") }
    let encoder = MessageEncoder(catalog: catalog)
    var ledger = Ledger(catalog: catalog, config: LedgerConfig(defaultMethod: .lifo, defaultLossLimit: Money(dollars: 25_000)))
    let perFill = generateDeltas(ledger: &ledger, fillCount: fillCount)
    let messageCount = perFill.reduce(0) { $0 + $1.count }

    switch path {
    case "none":
        print("encode bench: generated \(fillCount) fills, \(messageCount) messages, nothing encoded")
        return
    case "tree":
        print("encode bench: tree path once, checksum \(encodeTree(encoder, perFill))")
        return
    case "bytes":
        print("encode bench: bytes path once, checksum \(encodeBytes(encoder, perFill))")
        return
    case "encode":
        print("encode bench: encode only once, checksum \(encodeBytesOnly(encoder, perFill))")
        return
    default:
        break
    }

    print("encode bench: \(fillCount) fills, \(messageCount) messages (\(formatted(Double(messageCount) / Double(fillCount), 2)) per fill), best of \(passes)")
    let tree = best(passes) { encodeTree(encoder, perFill) }
    let bytes = best(passes) { encodeBytes(encoder, perFill) }
    let bare = best(passes) { encodeBytesOnly(encoder, perFill) }
    report("tree  (messages(for:seq:))", tree, fills: fillCount, messages: messageCount)
    report("bytes (encode + frame + String)", bytes, fills: fillCount, messages: messageCount)
    report("bytes (encode only)", bare, fills: fillCount, messages: messageCount)
    print("  speed-up     \(formatted(tree / bytes, 1))× with the frame, \(formatted(tree / bare, 1))× encode only")

    let snapshotTree = best(passes) { snapshotAsTree(encoder, ledger) }
    let snapshotBytes = best(passes) { snapshotAsBytes(encoder, ledger) }
    print("snapshot body: \(ledger.positions.count) positions, \(ledger.accounts.count) accounts, \(ledger.marks.count) marks, 200 fills")
    print("  tree         \(formatted(snapshotTree * 1e6, 1)) µs")
    print("  bytes        \(formatted(snapshotBytes * 1e6, 1)) µs (\(formatted(snapshotTree / snapshotBytes, 1))×)")
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

private func encodeTree(_ encoder: MessageEncoder, _ perFill: [[LedgerDelta]]) -> Int {
    var checksum = 0
    for (index, deltas) in perFill.enumerated() {
        for message in encoder.messages(for: deltas, seq: Int64(index + 1)) { checksum &+= message.jsonFrame.count }
    }
    return checksum
}

/// What the ingest thread would do once wired: bytes, one frame, and the journal's text.
private func encodeBytes(_ encoder: MessageEncoder, _ perFill: [[LedgerDelta]]) -> Int {
    var checksum = 0
    for (index, deltas) in perFill.enumerated() {
        for delta in deltas {
            let encoded = encoder.encode(delta, seq: Int64(index + 1))
            let frame = Frames.text(bytes: encoded.json)
            let journalText = String(decoding: encoded.json, as: UTF8.self)
            checksum &+= frame.count &+ journalText.utf8.count
        }
    }
    return checksum
}

private func encodeBytesOnly(_ encoder: MessageEncoder, _ perFill: [[LedgerDelta]]) -> Int {
    var checksum = 0
    for (index, deltas) in perFill.enumerated() {
        for delta in deltas { checksum &+= encoder.encode(delta, seq: Int64(index + 1)).json.count }
    }
    return checksum
}

private func stripped(_ value: JSONValue) -> JSONValue {
    guard case .object(let fields) = value else { return value }
    return .object(fields.filter { $0.0 != "type" && $0.0 != "scope" })
}

/// The body of ReadContext.snapshot as it is built today.
private func snapshotAsTree(_ encoder: MessageEncoder, _ ledger: Ledger) -> Int {
    let value = JSONValue.object([
        ("instruments", .array(encoder.catalog.all.map { encoder.instrument($0) })),
        ("positions", .array(ledger.positions.map { stripped(encoder.position($0, seq: nil)) })),
        ("accounts", .array(ledger.accounts.map { stripped(encoder.account($0, seq: nil, type: "account")) })),
        ("desk", stripped(encoder.desk(ledger.desk, seq: nil))),
        ("marks", .array(ledger.marks.map { stripped(encoder.mark($0, seq: nil)) })),
        ("fills", .array(ledger.recentFills(limit: 200).map { encoder.fill($0, seq: nil) })),
    ])
    return value.serialized.utf8.count
}

private func snapshotAsBytes(_ encoder: MessageEncoder, _ ledger: Ledger) -> Int {
    var out = JSONBytes(reservingCapacity: 128 * 1024)
    out.openObject()
    out.key("instruments"); out.openArray()
    for instrument in encoder.catalog.all { encoder.appendInstrument(instrument, to: &out) }
    out.closeArray()
    out.key("positions"); out.openArray()
    for line in ledger.positions { encoder.appendSnapshotPosition(line, to: &out) }
    out.closeArray()
    out.key("accounts"); out.openArray()
    for totals in ledger.accounts { encoder.appendSnapshotAccount(totals, to: &out) }
    out.closeArray()
    out.key("desk"); encoder.appendSnapshotDesk(ledger.desk, to: &out)
    out.key("marks"); out.openArray()
    for mark in ledger.marks { encoder.appendSnapshotMark(mark, to: &out) }
    out.closeArray()
    out.key("fills"); out.openArray()
    for record in ledger.recentFills(limit: 200) { encoder.appendFill(record, seq: nil, to: &out) }
    out.closeArray()
    out.closeObject()
    return out.bytes.count
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
