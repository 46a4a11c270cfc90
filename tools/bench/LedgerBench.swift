import Bytes
import Glibc
import Ledger

/// `ladderwire-bench ledger [--fills N] [--books B] [--checkpoint] [--generate-only]`: applies a generated stream of fills (LIFO,
/// a mark every 100 fills) to one Ledger on one core and prints fills per second and heap use.
/// The stream is generated before the clock starts; only `apply` is timed.
func runLedgerBench(arguments: [String]) {
    var fillCount = 2_000_000
    var bookCount = 100
    var generateOnly = false
    var checkpoint = false
    var rest = arguments.first == "ledger" ? Array(arguments.dropFirst()) : arguments
    while !rest.isEmpty {
        let flag = rest.removeFirst()
        if flag == "--checkpoint" {
            // Also time encodeState() and restore(from:) of the final state.
            checkpoint = true
            continue
        }
        if flag == "--generate-only" {
            // Builds the stream and stops: run under valgrind with and without this flag, and the
            // difference in "total heap usage" is what apply() allocates (docs/ledger.md).
            generateOnly = true
            continue
        }
        guard let text = rest.first, let value = Int(text), value > 0 else { fail("\(flag) needs a positive integer") }
        rest.removeFirst()
        switch flag {
        case "--fills": fillCount = value
        case "--books": bookCount = value
        default: fail("unknown flag \(flag) (--fills N, --books B, --checkpoint, --generate-only)")
        }
    }

    let catalog = benchCatalog()
    let instruments = catalog.all
    let books = (0..<bookCount).map { index in
        (account: "ACC\(index / instruments.count)", instrument: instruments[index % instruments.count])
    }
    var random = SeededRandom(seed: 42)
    var walk = Array(repeating: Int64(0), count: instruments.count)
    var events: [LedgerEvent] = []
    events.reserveCapacity(fillCount + fillCount / 100 + 1)
    let start: Nanos = 1_795_530_600_000_000_000
    for n in 0..<fillCount {
        let book = books[Int(random.next() % UInt64(bookCount))]
        let slot = instruments.firstIndex(of: book.instrument)!
        // A bounded random walk of the price, in ticks, per instrument.
        walk[slot] = max(-100, min(100, walk[slot] + Int64(random.next() % 5) - 2))
        let price = Price(units: benchBase(book.instrument) + walk[slot] * book.instrument.tick.units)
        let time = start + Int64(n) * 1_000
        events.append(.fill(Fill(execId: "E\(n)", account: book.account, instrument: book.instrument.symbol,
                                 side: random.next() % 2 == 0 ? .buy : .sell, qty: Int64(random.next() % 10) + 1,
                                 price: price, time: time, source: "bench")))
        if n % 100 == 99 {
            events.append(.mark(instrument: book.instrument.symbol, price: price, time: time, source: "bench"))
        }
    }

    if generateOnly {
        print("ledger bench: generated \(events.count) events, not applied")
        return
    }
    var ledger = Ledger(catalog: catalog, config: LedgerConfig(defaultMethod: .lifo))
    ledger.reserveCapacity(fills: fillCount)
    let residentBefore = residentBytes()
    let clock = ContinuousClock()
    var deltaCount = 0
    let cpuBegan = cpuSeconds()
    let began = clock.now
    for event in events {
        do { deltaCount &+= try ledger.apply(event).count } catch { fail("\(error)") }
    }
    let elapsed = clock.now - began
    let cpu = cpuSeconds() - cpuBegan
    let residentAfter = residentBytes()
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let perSecond = Double(fillCount) / seconds
    print("ledger bench: \(fillCount) fills + \(events.count - fillCount) marks over \(bookCount) books, LIFO")
    print("  elapsed      \(formatted(seconds, 3)) s wall, \(formatted(cpu, 3)) s CPU (this thread)")
    print("  fills/s      \(Int(perSecond)) wall-clock, \(Int(Double(fillCount) / cpu)) per CPU-second")
    print("  ns/fill      \(formatted(seconds * 1e9 / Double(fillCount), 1)) wall, \(formatted(cpu * 1e9 / Double(fillCount), 1)) CPU")
    print("  deltas       \(deltaCount)")
    let grown = residentAfter - residentBefore
    print("  RSS growth   \(grown / 1_048_576) MiB (\(formatted(Double(grown) / Double(fillCount), 1)) bytes/fill retained: the fill store)")
    print("  desk total   \(ledger.desk.total.decimalString), positions \(ledger.positions.count)")
    // The writer's stall when a copy of the ledger is taken (a checkpoint's, a reader's): the
    // first apply after the copy pays for whatever storage it must duplicate.
    do {
        let generator = events.first { if case .fill = $0 { return true } else { return false } }
        if case .fill(let sample)? = generator {
            var stalls: [Double] = []
            for round in 0..<5 {
                let copy = ledger
                var fill = sample
                fill.execId = "COPY-PROBE-\(round)"
                // After every generated fill: an in-order fill, not the late-fill path (which
                // rebuilds its book).
                fill.time = sample.time + 1_000_000_000_000_000 + Int64(round)
                let began = clock.now
                applyAfterCopy(&ledger, fill)
                let took = clock.now - began
                stalls.append(Double(took.components.attoseconds) / 1e12 + Double(took.components.seconds) * 1e6)
                withExtendedLifetime(copy) {}
            }
            print("  copy stall   first apply after a copy: \(stalls.map { formatted($0, 1) }.joined(separator: ", ")) µs")
            // A late fill (older than its book's last one) rebuilds that book from SOD.
            var late = sample
            late.execId = "LATE-PROBE"
            let began = clock.now
            applyAfterCopy(&ledger, late)
            let took = clock.now - began
            let perBook = fillCount / max(1, bookCount)
            print("  late fill    \(formatted(Double(took.components.attoseconds) / 1e12 + Double(took.components.seconds) * 1e6, 1)) µs (rebuilds a book of ~\(perBook) fills)")
        }
    }
    if checkpoint {
        let encodeBegan = clock.now
        let bytes = ledger.encodeState()
        let encoded = clock.now - encodeBegan
        let restoreBegan = clock.now
        do {
            let restored = try Ledger.restore(from: bytes, catalog: catalog, config: LedgerConfig(defaultMethod: .lifo))
            let restoredIn = clock.now - restoreBegan
            guard restored.desk == ledger.desk else { fail("restored desk differs") }
            print("  checkpoint   \(bytes.count / 1_048_576) MiB, encode \(encoded), restore \(restoredIn)")
        } catch { fail("\(error)") }
    }
}

/// Its own function so a profiler can single it out (`valgrind --toggle-collect='*applyAfterCopy*'`).
@inline(never)
private func applyAfterCopy(_ ledger: inout Ledger, _ fill: Fill) {
    do { _ = try ledger.apply(.fill(fill)) } catch { fail("\(error)") }
}

private func fail(_ message: String) -> Never {
    var text = "ledger bench: " + message + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}

/// Resident set size from /proc/self/statm (second field, in pages). mallinfo2 would give heap
/// bytes, but <malloc.h> is not visible to Swift without a shim; allocation counts per fill are
/// measured outside the process (valgrind, see docs/ledger.md).
private func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return 0 }
    let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// CPU time of this thread: on a shared machine wall-clock rates also measure the neighbours.
private func cpuSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

private func formatted(_ value: Double, _ places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return String(rounded)
}

/// Base prices: 110 for the notes and bonds, 6000 for ES (in price units).
func benchBase(_ instrument: Instrument) -> Int64 {
    (instrument.product == "ES" ? 6000 : 110) * Price.unitsPerPoint
}

/// The default instruments, built in code so the benches need no config file.
func benchCatalog() -> InstrumentCatalog {
    func thirtySeconds(_ symbol: String, _ product: String, _ denominator: Int64, _ dollars: Int64, _ parts: Int, _ dv01: Int64) -> Instrument {
        Instrument(symbol: symbol, product: product, tick: Price(units: Price.unitsPerPoint / denominator), dollarsPerPoint: dollars,
                   display: .thirtySeconds(parts: parts), dv01: Money(dollars: dv01), priceBandTicks: 1000)
    }
    let instruments = [
        thirtySeconds("ZTZ6", "ZT", 256, 2000, 8, 38), thirtySeconds("ZFZ6", "ZF", 128, 1000, 4, 48),
        thirtySeconds("ZNZ6", "ZN", 64, 1000, 2, 72), thirtySeconds("TNZ6", "TN", 64, 1000, 2, 95),
        thirtySeconds("ZBZ6", "ZB", 32, 1000, 1, 170), thirtySeconds("UBZ6", "UB", 32, 1000, 1, 260),
        Instrument(symbol: "ESZ6", product: "ES", tick: Price(units: Price.unitsPerPoint / 4), dollarsPerPoint: 50,
                   display: .decimal(places: 2), priceBandTicks: 4000),
    ]
    do { return try InstrumentCatalog(instruments: instruments) } catch { fail("\(error)") }
}
