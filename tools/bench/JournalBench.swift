import Bytes
import Foundation
import Journal
import Ledger
import Synchronization

// `ladderwire-bench journal` measures group-commit throughput, commit latency and recovery reads;
// `ladderwire-bench journal-crash-child` is the process Tests/integration/test_journal_crash.py kills.

/// `ladderwire-bench journal [--events N] [--batch B] [--durability normal|full] [--wal-commits C] [--recovery-events M] [--dir D]`
func runJournalBench(arguments: [String]) {
    let flags = JournalBenchFlags(arguments, known: ["--events", "--batch", "--durability", "--recovery-events", "--dir", "--rate", "--checkpointer",
                                                     "--wal-commits"])
    let events = flags.integer("--events", default: 200_000)
    let walCommits = flags.integer("--wal-commits", default: 2_000)
    let batches = flags.value("--batch").map { [Int($0) ?? 0] } ?? [1, 10, 100, 1_000]
    let recoveryEvents = flags.integer("--recovery-events", default: 1_000_000)
    guard let durability = Durability(rawValue: flags.value("--durability") ?? "normal"),
          events > 0, batches.allSatisfy({ $0 > 0 }) else {
        JournalBenchFlags.fail("usage: ladderwire-bench journal [--events N] [--batch B] [--durability normal|full] [--rate R] [--checkpointer MS] [--wal-commits C] [--recovery-events M] [--dir D]")
    }
    let directory = flags.value("--dir") ?? NSTemporaryDirectory() + "ladderwire-journal-bench-\(getpid())"
    try? FileManager.default.removeItem(atPath: directory)
    defer { if flags.value("--dir") == nil { try? FileManager.default.removeItem(atPath: directory) } }

    // With --checkpointer MS, a second connection on its own thread checkpoints the WAL every MS
    // milliseconds and the writer never does (walAutocheckpointPages = 0).
    let checkpointer = flags.value("--checkpointer").map { _ in flags.integer("--checkpointer", default: 100) }
    func writerOptions(_ name: String) -> JournalOptions {
        var options = JournalOptions(path: "\(directory)/\(name)")
        options.durability = durability
        if checkpointer != nil { options.walAutocheckpointPages = 0 }
        return options
    }
    print("journal bench: \(events) fills per run, durability \(durability.rawValue), SQLite \(JournalBenchFlags.sqliteVersion), "
          + (checkpointer.map { "WAL checkpointed by another thread every \($0) ms" } ?? "automatic WAL checkpoints in the writer"))
    if walCommits > 0 {
        WALGrowth.measure(path: "\(directory)/wal.db", durability: durability, commits: walCommits)
    }
    print("batch     fills/s   commits/s   commit p50   commit p99   commit max")
    for batch in batches {
        let options = writerOptions("append-\(batch).db")
        let journal = JournalBenchFlags.open(options)
        let background = checkpointer.map { WALCheckpointer(path: options.path, everyMilliseconds: $0) }
        defer { background?.stop() }
        let input = (0..<events).map { BenchFill.event(number: $0) }
        var latencies: [Duration] = []
        latencies.reserveCapacity(events / batch + 1)
        let clock = ContinuousClock()
        let started = clock.now
        var start = 0
        while start < events {
            let slice = Array(input[start..<min(start + batch, events)])
            let before = clock.now
            do { try journal.append(slice) } catch { JournalBenchFlags.fail("append failed: \(error)") }
            latencies.append(clock.now - before)
            start += batch
        }
        let total = clock.now - started
        journal.close()
        latencies.sort()
        let seconds = JournalBenchFlags.seconds(total)
        print(String(format: "%5d %11.0f %11.0f %12@ %12@ %12@", batch, Double(events) / seconds, Double(latencies.count) / seconds,
                     JournalBenchFlags.format(latencies[latencies.count / 2]),
                     JournalBenchFlags.format(latencies[min(latencies.count - 1, latencies.count * 99 / 100)]),
                     JournalBenchFlags.format(latencies[latencies.count - 1])))
    }

    let rates = flags.value("--rate").map { [Int($0) ?? 0] } ?? [20_000, 50_000, 100_000]
    print("\ngroup commit: a producer thread offers fills at a fixed rate; the writer appends what queued up (at most \(GroupCommitRun.maxBatch))")
    print("offered/s   stored/s   mean batch   arrival→commit p50   p99")
    for rate in rates where rate > 0 {
        let options = writerOptions("group-\(rate).db")
        let journal = JournalBenchFlags.open(options)
        let background = checkpointer.map { WALCheckpointer(path: options.path, everyMilliseconds: $0) }
        let result = GroupCommitRun.measure(journal: journal, events: events, rate: rate)
        background?.stop()
        print(String(format: "%9d %10.0f %12.1f %20@ %@", rate, result.storedPerSecond, result.meanBatch,
                     JournalBenchFlags.format(result.p50), JournalBenchFlags.format(result.p99)))
    }

    guard recoveryEvents > 0 else { return }
    print("\nrecovery read of \(recoveryEvents) events (events(after:) in pages of 10,000 + allFillSeqs())")
    let path = "\(directory)/recovery.db"
    do {
        var options = JournalOptions(path: path)
        options.durability = durability
        let journal = JournalBenchFlags.open(options)
        var number = 0
        while number < recoveryEvents {
            let slice = (number..<min(number + 1_000, recoveryEvents)).map { BenchFill.event(number: $0) }
            number += slice.count
            do { try journal.append(slice) } catch { JournalBenchFlags.fail("append failed: \(error)") }
        }
        journal.close()
    }
    let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    print("database size: \(fileSize / 1_048_576) MiB")
    for withCheckpoint in [false, true] {
        if withCheckpoint {
            // A checkpoint 10,000 events before the end, as a periodic checkpointer would leave it.
            let journal = JournalBenchFlags.open(JournalOptions(path: path))
            let state = [UInt8](repeating: 0x5A, count: 256 * 1_024)
            do { try journal.append([], checkpoint: (seq: max(0, journal.lastSeq - 10_000), state: state)) } catch {
                JournalBenchFlags.fail("checkpoint failed: \(error)")
            }
            journal.close()
        }
        let clock = ContinuousClock()
        let started = clock.now
        let journal = JournalBenchFlags.open(JournalOptions(path: path))
        var replayed = 0
        var fillSeqs = 0
        do {
            var after: Seq = try journal.latestCheckpoint()?.seq ?? 0
            while true {
                let page = try journal.events(after: after, limit: 10_000)
                guard let last = page.last else { break }
                replayed += page.count
                after = last.seq
            }
            fillSeqs = try journal.allFillSeqs().count
        } catch {
            JournalBenchFlags.fail("recovery read failed: \(error)")
        }
        let elapsed = clock.now - started
        journal.close()
        print("\(withCheckpoint ? "with checkpoint   " : "without checkpoint"): \(JournalBenchFlags.format(elapsed)) (open, \(replayed) events replayed, \(fillSeqs) fill seqs read)")
    }
}

/// `ladderwire-bench journal-crash-child --db PATH [--count N] [--seed S] [--durability normal|full]`
///
/// Appends fills `C-<n>` (continuing after the highest stored n) in small random batches, with the
/// odd mark and checkpoint, and prints `ACK <execId> <seq>` for each fill only after its batch
/// committed. Runs until `--count` fills were written or it is killed.
func runJournalCrashChild(arguments: [String]) {
    let flags = JournalBenchFlags(arguments, known: ["--db", "--count", "--seed", "--durability"])
    guard let path = flags.value("--db"), let durability = Durability(rawValue: flags.value("--durability") ?? "normal") else {
        JournalBenchFlags.fail("usage: ladderwire-bench journal-crash-child --db PATH [--count N] [--seed S] [--durability normal|full]")
    }
    let count = flags.integer("--count", default: Int.max)
    var generator = SeededRandom(seed: UInt64(flags.integer("--seed", default: Int(getpid()))))
    var options = JournalOptions(path: path)
    options.durability = durability
    let journal = JournalBenchFlags.open(options)

    var next: Int
    do {
        next = try journal.allExecIds().keys.compactMap { $0.hasPrefix("C-") ? Int($0.dropFirst(2)) : nil }.max() ?? 0
    } catch {
        JournalBenchFlags.fail("cannot read stored execIds: \(error)")
    }
    var written = 0
    var batches = 0
    while written < count {
        let size = min(Int.random(in: 1...8, using: &generator), count - written)
        var events: [NewEvent] = []
        for _ in 0..<size {
            next += 1
            events.append(BenchFill.event(number: next, execIdPrefix: "C-"))
            if Int.random(in: 0..<10, using: &generator) == 0 {
                events.append(BenchFill.mark(number: next))
            }
        }
        batches += 1
        let checkpoint: (seq: Seq, state: [UInt8])? = batches % 50 == 0 ? (seq: journal.lastSeq, state: Array("state@\(journal.lastSeq)".utf8)) : nil
        let seqs: [Seq]
        do {
            seqs = try journal.append(events, cursors: [SourceCursor(name: "crash-child", value: "C-\(next)")], checkpoint: checkpoint)
        } catch {
            JournalBenchFlags.fail("append failed: \(error)")
        }
        var acks = ""
        for (event, seq) in zip(events, seqs) where event.kind == "fill" {
            acks += "ACK \(event.execId ?? "?") \(seq)\n"
        }
        // One unbuffered write per committed batch: an ACK line exists only after its commit.
        FileHandle.standardOutput.write(Data(acks.utf8))
        written += size
    }
    journal.close()
}

/// A thread with its own read-write connection that checkpoints the WAL periodically, so the
/// writer's commits never pay for the copy-back and its fsync.
final class WALCheckpointer: Sendable {
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    init(path: String, everyMilliseconds interval: Int) {
        let thread = Thread { [self] in
            var options = JournalOptions(path: path)
            options.walAutocheckpointPages = 0
            let journal = JournalBenchFlags.open(options)
            while running.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: Double(interval) / 1_000)
                do { try journal.checkpointWAL() } catch { JournalBenchFlags.fail("checkpoint failed: \(error)") }
            }
            journal.close()
            finished.signal()
        }
        thread.start()
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        finished.wait()
    }
}

/// The ingest shape: fills arrive on another thread; the writer drains the queue, appends it as
/// one batch, and measures each fill's wait from arrival to the end of its commit.
enum GroupCommitRun {
    struct Result {
        var storedPerSecond: Double
        var meanBatch: Double
        var p50: Duration
        var p99: Duration
    }

    static let maxBatch = 1_000

    static func measure(journal: Journal, events: Int, rate: Int) -> Result {
        let clock = ContinuousClock()
        let queue = Mutex<[(arrived: ContinuousClock.Instant, event: NewEvent)]>([])
        let input = (0..<events).map { BenchFill.event(number: $0) }
        let started = clock.now
        let producer = Thread {
            for (number, event) in input.enumerated() {
                // Pace to the offered rate: arrival n is due at start + n / rate.
                let due = started + .nanoseconds(Int64(number) * 1_000_000_000 / Int64(rate))
                let now = clock.now
                if due > now { Thread.sleep(forTimeInterval: JournalBenchFlags.seconds(due - now)) }
                queue.withLock { $0.append((arrived: clock.now, event: event)) }
            }
        }
        producer.start()

        var waits: [Duration] = []
        waits.reserveCapacity(events)
        var batches = 0
        while waits.count < events {
            // Cap a batch as the ingest should: past ~1,000 fills a transaction only gets slower
            // per fill (dirty pages spill out of the cache before the commit).
            let batch = queue.withLock { pending in
                let taken = Array(pending.prefix(maxBatch))
                pending.removeFirst(taken.count)
                return taken
            }
            if batch.isEmpty {
                Thread.sleep(forTimeInterval: 0.000_05)
                continue
            }
            do { try journal.append(batch.map(\.event)) } catch { JournalBenchFlags.fail("append failed: \(error)") }
            let committed = clock.now
            for item in batch { waits.append(committed - item.arrived) }
            batches += 1
        }
        let elapsed = clock.now - started
        journal.close()
        waits.sort()
        return Result(storedPerSecond: Double(events) / JournalBenchFlags.seconds(elapsed),
                      meanBatch: Double(events) / Double(batches),
                      p50: waits[waits.count / 2], p99: waits[min(waits.count - 1, waits.count * 99 / 100)])
    }
}

/// WAL bytes per single-fill transaction: with no checkpoint (automatic ones off, no background
/// thread) the WAL only grows, so the growth of the `-wal` file after each commit is exactly the
/// frames that commit wrote (a 24-byte header + one 4 KiB page each).
enum WALGrowth {
    static func measure(path: String, durability: Durability, commits: Int) {
        var options = JournalOptions(path: path)
        options.durability = durability
        options.walAutocheckpointPages = 0
        let journal = JournalBenchFlags.open(options)
        defer { journal.close() }
        func walSize() -> Int { (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0 }
        // Warm up past the first pages of each table and index, as a journal in service is.
        for number in 0..<200 {
            do { try journal.append([BenchFill.event(number: number, execIdPrefix: "W-")]) } catch { JournalBenchFlags.fail("append failed: \(error)") }
        }
        let frameBytes = 24 + 4_096
        var framesPerCommit: [Int: Int] = [:]
        let before = walSize()
        var last = before
        for number in 0..<commits {
            do { try journal.append([BenchFill.event(number: number)]) } catch { JournalBenchFlags.fail("append failed: \(error)") }
            let size = walSize()
            framesPerCommit[(size - last) / frameBytes, default: 0] += 1
            last = size
        }
        let mean = Double(last - before) / Double(commits)
        let rowBytes = BenchFill.event(number: 0).payload.utf8.count + BenchFill.meanStoredDeltaBytes
        print("\nWAL per single-fill transaction (\(commits) commits of one fill each, no WAL checkpoint): "
              + String(format: "%.0f bytes = %.2f frames on average", mean, mean / Double(frameBytes)))
        print("  frames written by a commit: " + framesPerCommit.keys.sorted().map { "\($0): \(framesPerCommit[$0]!) commits" }.joined(separator: ", "))
        print("  payload + deltas of a fill row: ~\(rowBytes) bytes on average")
    }
}

/// Representative fill events: payload and deltas sized like the real ingest's.
enum BenchFill {
    static let accounts = ["ACC1", "ACC2", "ACC3", "ACC4"]
    static let instruments = ["ZNZ6", "ZBZ6", "ZFZ6", "ZTZ6", "UBZ6", "TNZ6", "ESZ6"]

    static func event(number: Int, execIdPrefix: String = "B-") -> NewEvent {
        let execId = "\(execIdPrefix)\(number)"
        let account = accounts[number % accounts.count]
        let instrument = instruments[number % instruments.count]
        let side = number % 3 == 0 ? "sell" : "buy"
        let qty = Int64(number % 9 + 1)
        let units = Int64(28_224 + number % 64)
        let time = Int64(1_764_000_000_000_000_000) + Int64(number) * 1_000_000
        let price = "110-\(8 + number % 16)"
        let payload = #"{"type":"fill","execId":"\#(execId)","account":"\#(account)","instrument":"\#(instrument)","side":"\#(side)","qty":\#(qty),"price":"\#(price)","time":"2026-11-24T14:30:00.123Z"}"#
        let deltas = BenchDeltas.pool[number % BenchDeltas.pool.count]
        let row = FillRow(execId: execId, account: account, instrument: instrument, side: side, qty: qty,
                          price: price, priceUnits: units, time: time, source: "bench")
        return NewEvent(kind: "fill", account: account, instrument: instrument, execId: execId, time: time,
                        source: "bench", payload: payload, deltas: deltas, fill: row)
    }

    static var meanStoredDeltaBytes: Int { BenchDeltas.pool.reduce(0) { $0 + $1.count } / BenchDeltas.pool.count }

    static func mark(number: Int) -> NewEvent {
        let instrument = instruments[number % instruments.count]
        let time = Int64(1_764_000_000_000_000_000) + Int64(number) * 1_000_000
        return NewEvent(kind: "mark", instrument: instrument, time: time, source: "bench",
                        payload: #"{"type":"mark","instrument":"\#(instrument)","price":"110-16"}"#,
                        deltas: .json(#"[{"type":"mark","instrument":"\#(instrument)","price":"110'160"}]"#),
                        mark: MarkRow(instrument: instrument, price: "110-16", priceUnits: 28_288, time: time))
    }
}
/// `--name value` flags for the two journal subcommands.
struct JournalBenchFlags {
    private var values: [String: String] = [:]

    init(_ arguments: [String], known: Set<String>) {
        var index = 0
        while index < arguments.count {
            let name = arguments[index]
            guard known.contains(name), index + 1 < arguments.count else {
                JournalBenchFlags.fail("unknown or incomplete flag: \(name)")
            }
            values[name] = arguments[index + 1]
            index += 2
        }
    }

    func value(_ name: String) -> String? { values[name] }

    func integer(_ name: String, default fallback: Int) -> Int {
        guard let text = values[name] else { return fallback }
        guard let number = Int(text), number >= 0 else { JournalBenchFlags.fail("\(name) needs a non-negative integer, got \(text)") }
        return number
    }

    static func open(_ options: JournalOptions) -> Journal {
        do { return try Journal(options) } catch { fail("\(error)") }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }

    static var sqliteVersion: String {
        guard case .text(let text)? = try? SQLiteConnection(path: ":memory:").scalar("SELECT sqlite_version()") else { return "?" }
        return text
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    static func format(_ duration: Duration) -> String {
        let value = seconds(duration)
        if value >= 1 { return String(format: "%.2f s", value) }
        if value >= 1e-3 { return String(format: "%.2f ms", value * 1e3) }
        return String(format: "%.1f µs", value * 1e6)
    }
}

/// The deltas of real fills as the ingest thread stores them: 1,000 fills over 4 accounts × 7
/// instruments applied to a real ledger, each event's deltas in `DeltaCoding`'s binary form (what
/// `IngestPipeline.record` stores since journal schema v4; before, it stored the JSON array of
/// the messages the `MessageEncoder` wrote from them).
enum BenchDeltas {
    static let pool: [StoredDeltas] = {
        let catalog = benchCatalog()
        let instruments = catalog.all
        var ledger = Ledger(catalog: catalog, config: LedgerConfig(defaultMethod: .lifo))
        var random = SeededRandom(seed: 7)
        var pool: [StoredDeltas] = []
        for n in 0..<1_000 {
            let instrument = instruments[Int(random.next() % UInt64(instruments.count))]
            let walk = Int64(random.next() % 21) - 10
            let price = Price(units: benchBase(instrument) + walk * instrument.tick.units)
            let fill = Fill(execId: "B-\(n)", account: "ACC\(random.next() % 4 + 1)", instrument: instrument.symbol,
                            side: random.next() % 2 == 0 ? .buy : .sell, qty: Int64(random.next() % 9) + 1, price: price,
                            time: 1_795_530_600_000_000_000 + Int64(n) * 1_000_000, source: "bench")
            let deltas: [LedgerDelta]
            do { deltas = try ledger.apply(.fill(fill)) } catch { JournalBenchFlags.fail("ledger: \(error)") }
            pool.append(.binary(DeltaCoding.encode(deltas)))
        }
        return pool
    }()
}
