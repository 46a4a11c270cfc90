import Bytes
import ConfigFiles
import Dispatch
import Foundation
import Ingest
import Journal
import Ledger
import Synchronization
import Wire

/// `ladderwire-bench populate --db PATH --fills N [--accounts A] [--instruments FILE] [--accounts-file FILE]
/// [--batch B] [--checkpoint-every E] [--seed S]`: builds a journal of N fills offline, through the
/// real `IngestPipeline` and `Journal` the server runs (validation, ledger, deltas, execId index,
/// group commit, and the ledger checkpoints it leaves behind), submitted in batches so that a
/// million fills take minutes. Fills are today's (receipt time), on A accounts × the catalog's
/// instruments, prices a bounded random walk on the tick grid around a mark sent now and then.
/// A journal that already holds events is refused: the figures it backs assume a known content.
func runPopulateBench(arguments: [String]) {
    let options = BenchOptions(command: "populate", arguments: arguments,
                               valued: ["db", "fills", "accounts", "instruments", "accounts-file", "batch", "checkpoint-every", "seed"],
                               switches: [])
    guard let path = options.string("db") else { BenchOptions.fail("populate: --db PATH is required") }
    let fillCount = options.int("fills", default: 1_000_000, minimum: 1)
    let accountCount = options.int("accounts", default: 20, minimum: 1)
    let batchSize = options.int("batch", default: 1_000, minimum: 1)
    let instrumentsPath = options.string("instruments", default: "config/instruments.json")
    let accountsPath = options.string("accounts-file", default: "config/accounts.json")

    let catalog: InstrumentCatalog
    do { catalog = try InstrumentsFile.load(path: instrumentsPath) } catch { BenchOptions.fail("populate: \(error)") }
    var ledgerConfig = LedgerConfig()
    if FileManager.default.fileExists(atPath: accountsPath) {
        do { ledgerConfig = try AccountsFile.load(path: accountsPath) } catch { BenchOptions.fail("populate: \(error)") }
    }
    let journal: Journal
    do { journal = try Journal(JournalOptions(path: path)) } catch { BenchOptions.fail("populate: \(error.message)") }
    guard journal.lastSeq == 0 else { BenchOptions.fail("populate: \(path) already holds \(journal.lastSeq) events; give a new file") }

    var pipelineOptions = IngestPipeline.Options()
    pipelineOptions.checkpointEvery = options.int("checkpoint-every", default: pipelineOptions.checkpointEvery, minimum: 1)
    let pipeline: IngestPipeline
    do {
        pipeline = try IngestPipeline(journal: journal, catalog: catalog, config: ledgerConfig, options: pipelineOptions,
                                      publish: { _ in })
    } catch { BenchOptions.fail("populate: \(error)") }
    pipeline.start()

    var feed = PopulateFeed(catalog: catalog, accounts: accountCount, seed: UInt64(options.int("seed", default: 13)))
    let started = Monotonic.now()
    let meter = ProgressMeter("populate", unit: "fills", total: fillCount, write: { line in writeError(line + "\n") })
    var submitted = 0
    let refused = Atomic<Int>(0)
    let firstRefusal = Mutex<String?>(nil)
    while submitted < fillCount {
        let messages = feed.next(min(batchSize, fillCount - submitted))
        submitted += messages.reduce(0) { $0 + ($1.isFill ? 1 : 0) }
        let done = DispatchSemaphore(value: 0)
        pipeline.submit(messages, source: "populate", cursor: nil) { results in
            for result in results {
                guard case .rejected(let code, let message) = result else { continue }
                refused.add(1, ordering: .relaxed)
                firstRefusal.withLock { if $0 == nil { $0 = "\(code): \(message)" } }
            }
            done.signal()
        }
        done.wait()
        meter.update(submitted)
    }
    meter.finish(submitted)
    // A clean stop, as the server's: the checkpoint being written is finished and stored.
    let stopped = DispatchSemaphore(value: 0)
    pipeline.stop { stopped.signal() }
    stopped.wait()
    let seconds = Monotonic.now().seconds(since: started)
    let lastSeq = journal.lastSeq
    let counts = try? journal.counts()
    journal.close()
    if refused.load(ordering: .relaxed) > 0 {
        BenchOptions.fail("populate: \(refused.load(ordering: .relaxed)) messages refused, first: \(firstRefusal.withLock { $0 ?? "" })")
    }
    print(String(format: "populate: %d fills, %d events (seq %lld), %d checkpoints kept, in %.1f s (%.0f fills/s) into %@",
                 submitted, counts?.events ?? 0, lastSeq, counts?.checkpoints ?? 0, seconds, Double(submitted) / seconds, path))
}

/// The producer messages `populate` submits: fills with receipt time (so they are today's), a
/// mark per instrument at the start and then every 500 fills, so prices stay inside the band.
struct PopulateFeed {
    private let instruments: [Instrument]
    private let accounts: [String]
    private var random: SeededRandom
    private var walk: [Int64]
    /// Each instrument's price at the start of the walk: near the sample feed's (tools/feeds), so
    /// that the latency bench's fills fall inside the band around populate's marks.
    private let base: [Int64]
    private var fills = 0
    private var marked = false

    init(catalog: InstrumentCatalog, accounts count: Int, seed: UInt64) {
        instruments = catalog.all
        // ACC1… matches the sample accounts.json, so configured methods and limits take part.
        accounts = (1...count).map { "ACC\($0)" }
        random = SeededRandom(seed: seed)
        walk = Array(repeating: 0, count: instruments.count)
        let samplePrices = ["ZTZ6": "102-29.75", "ZFZ6": "107-15.75", "ZNZ6": "110-17+", "TNZ6": "113-08",
                            "ZBZ6": "115-19", "UBZ6": "120-16", "ESZ6": "6012.75"]
        base = instruments.map { instrument in
            guard let text = samplePrices[instrument.symbol], let price = try? instrument.parsePrice(text) else {
                return benchBase(instrument)
            }
            return price.units
        }
    }

    /// About `count` fills (plus the marks due among them).
    mutating func next(_ count: Int) -> [ProducerMessage] {
        var messages: [ProducerMessage] = []
        messages.reserveCapacity(count + 8)
        if !marked {
            marked = true
            for index in instruments.indices { messages.append(mark(index)) }
        }
        for _ in 0..<count {
            let index = random.below(instruments.count)
            walk[index] = max(-40, min(40, walk[index] + Int64(random.below(5)) - 2))
            let instrument = instruments[index]
            // execIds like a venue's: a date, the account and 16 hex digits.
            let execId = "20261124-" + String(random.next(), radix: 16)
            messages.append(.fill(execId: execId, account: random.pick(accounts), instrument: instrument.symbol,
                                  side: random.below(2) == 0 ? "buy" : "sell", qty: Int64(random.below(9) + 1),
                                  price: instrument.format(price(index)), time: nil))
            fills += 1
            if fills % 500 == 0 { messages.append(mark(random.below(instruments.count))) }
        }
        return messages
    }

    private func price(_ index: Int) -> Price {
        let instrument = instruments[index]
        return Price(units: base[index] + walk[index] * instrument.tick.units)
    }

    private func mark(_ index: Int) -> ProducerMessage {
        .mark(instrument: instruments[index].symbol, price: instruments[index].format(price(index)), time: nil)
    }
}

private extension ProducerMessage {
    var isFill: Bool {
        if case .fill = self { return true }
        return false
    }
}
