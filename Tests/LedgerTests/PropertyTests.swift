import Bytes
import Testing
@testable import Ledger

/// Seeded random streams checked against an independent oracle, across methods, through
/// checkpoints and for determinism.
@Suite struct PropertyTests {
    static let seeds: [UInt64] = Array(1...12)

    /// Every step agrees with the oracle: accepted or refused alike, and identical positions,
    /// account totals and desk totals (LIFO for A and C, FIFO for B).
    @Test(arguments: seeds)
    func agreesWithNaiveOracleEveryStep(seed: UInt64) throws {
        let config = LedgerConfig(defaultMethod: .lifo, defaultLossLimit: Money(dollars: 2000),
                                  accounts: ["B": AccountConfig(method: .fifo, lossLimit: Money(dollars: 500))])
        var generator = EventGenerator(seed: seed)
        var ledger = Ledger(catalog: defaultCatalog, config: config)
        var oracle = NaiveLedger(catalog: defaultCatalog, config: config)
        for (step, event) in generator.events(160, openingMarks: seed % 2 == 0).enumerated() {
            let expected = oracle.offer(event)
            var actual: String?
            do throws(LedgerError) { _ = try ledger.apply(event) } catch { actual = error.code }
            #expect(actual == expected, "seed \(seed) step \(step) \(event)")
            #expect(ledger.positions == oracle.positions, "seed \(seed) step \(step) \(event)")
            #expect(ledger.accounts == oracle.accounts, "seed \(seed) step \(step)")
            #expect(ledger.desk == oracle.desk, "seed \(seed) step \(step)")
            if ledger.positions != oracle.positions { return }
        }
    }

    /// LIFO, FIFO and average cost: the same net and the same realized + unrealized at every step.
    @Test(arguments: seeds)
    func methodsAgreeOnTotals(seed: UInt64) {
        var generator = EventGenerator(seed: seed)
        let events = generator.events(300, openingMarks: true)
        var ledgers = CostMethod.allCases.map { Ledger(catalog: defaultCatalog, config: LedgerConfig(defaultMethod: $0)) }
        for (step, event) in events.enumerated() {
            let outcomes = ledgers.indices.map { index -> String? in
                do throws(LedgerError) { _ = try ledgers[index].apply(event); return nil } catch { return error.code }
            }
            #expect(Set(outcomes).count == 1, "seed \(seed) step \(step)")
            let reference = ledgers[0].positions
            for other in ledgers.dropFirst() {
                let lines = other.positions
                #expect(lines.map(\.net) == reference.map(\.net), "seed \(seed) step \(step)")
                #expect(lines.map(\.total) == reference.map(\.total), "seed \(seed) step \(step) \(other.config.defaultMethod)")
                #expect(other.desk.total == ledgers[0].desk.total)
            }
        }
    }

    /// restore(encodeState()) at any point, then the remaining events, gives exactly the state
    /// and deltas of the full replay.
    @Test(arguments: seeds)
    func checkpointPlusRemainingEqualsFullReplay(seed: UInt64) throws {
        var generator = EventGenerator(seed: seed)
        let events = generator.events(200, openingMarks: seed % 3 == 0)
        let config = LedgerConfig(accounts: ["C": AccountConfig(method: .average)])
        var full = Ledger(catalog: defaultCatalog, config: config)
        var deltas: [[LedgerDelta]] = []
        var checkpoints: [Int: [UInt8]] = [:]
        var random = SeededRandom(seed: seed ^ 0xFEED)
        let cuts = Set((0..<4).map { _ in random.below(events.count) })
        for (step, event) in events.enumerated() {
            if cuts.contains(step) { checkpoints[step] = full.encodeState() }
            deltas.append((try? full.apply(event)) ?? [])
        }
        for (cut, bytes) in checkpoints {
            var restored = try Ledger.restore(from: bytes, catalog: defaultCatalog, config: config)
            #expect(restored.encodeState() == bytes, "seed \(seed) cut \(cut)")
            for step in cut..<events.count {
                let produced = (try? restored.apply(events[step])) ?? []
                #expect(produced == deltas[step], "seed \(seed) cut \(cut) step \(step)")
            }
            #expect(restored.encodeState() == full.encodeState())
            #expect(restored.positions == full.positions)
            #expect(restored.accounts == full.accounts)
            #expect(restored.desk == full.desk)
            #expect(restored.marks == full.marks)
            #expect(restored.recentFills(limit: 50) == full.recentFills(limit: 50))
        }
    }

    /// Same input, same deltas and the same checkpoint bytes; check() predicts apply().
    @Test(arguments: [UInt64(7), 99])
    func deterministicAndCheckPredictsApply(seed: UInt64) {
        var generator = EventGenerator(seed: seed)
        let events = generator.events(250, openingMarks: false)
        func run() -> ([[LedgerDelta]], [UInt8]) {
            var ledger = Ledger(catalog: defaultCatalog)
            var all: [[LedgerDelta]] = []
            for event in events {
                var checked: LedgerError?
                do throws(LedgerError) { try ledger.check(event) } catch { checked = error }
                var applied: LedgerError?
                do throws(LedgerError) { all.append(try ledger.apply(event)) } catch { applied = error; all.append([]) }
                #expect(checked == applied || applied == .overflow, "\(event)")
            }
            return (all, ledger.encodeState())
        }
        let first = run(), second = run()
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
    }

    /// check(batch:) predicts applying the batch in order (refused items skipped).
    @Test(arguments: seeds)
    func batchCheckPredictsApplyingInOrder(seed: UInt64) {
        var generator = EventGenerator(seed: seed)
        let events = generator.events(240, openingMarks: seed % 2 == 1)
        var ledger = Ledger(catalog: defaultCatalog)
        var start = 0
        var random = SeededRandom(seed: seed)
        while start < events.count {
            let batch = Array(events[start..<min(events.count, start + 1 + random.below(8))])
            start += batch.count
            let predicted = ledger.check(batch: batch)
            for (index, event) in batch.enumerated() {
                var actual: LedgerError?
                do throws(LedgerError) { _ = try ledger.apply(event) } catch { actual = error }
                #expect(predicted[index] == actual, "seed \(seed) \(event)")
            }
        }
    }

    /// The deltas are exactly the difference between the states before and after: every changed
    /// or new line, account and the desk, and nothing else; a limit delta exactly when an
    /// account's loss or position limit state or the desk's loss limit state flipped.
    @Test(arguments: seeds)
    func deltasAreExactlyWhatChanged(seed: UInt64) {
        var generator = EventGenerator(seed: seed)
        var ledger = Ledger(catalog: defaultCatalog, config: LedgerConfig(defaultLossLimit: Money(dollars: 1500),
                                                                        defaultPositionLimit: 12, deskLossLimit: Money(dollars: 2500)))
        for event in generator.events(200, openingMarks: seed % 2 == 0) {
            let before = (ledger.positions, ledger.accounts, ledger.desk)
            guard let deltas = try? ledger.apply(event) else { continue }
            let changedLines = ledger.positions.filter { !before.0.contains($0) }
            let changedAccounts = ledger.accounts.filter { !before.1.contains($0) }
            var lines: [PositionLine] = [], accounts: [AccountTotals] = [], desks: [DeskTotals] = [], limits: [AccountTotals] = []
            var deskLimits: [DeskTotals] = []
            for delta in deltas {
                switch delta {
                case .position(let line): lines.append(line)
                case .account(let totals): accounts.append(totals)
                case .desk(let desk): desks.append(desk)
                case .limit(let totals): limits.append(totals)
                case .deskLimit(let desk): deskLimits.append(desk)
                case .fill, .mark, .order: break
                }
            }
            #expect(lines == changedLines, "seed \(seed) \(event)")
            #expect(accounts == changedAccounts, "seed \(seed) \(event)")
            #expect(desks == (ledger.desk == before.2 ? [] : [ledger.desk]))
            let flipped = ledger.accounts.filter { after in
                let old = before.1.first { $0.account == after.account }
                return (old?.limitState ?? .ok) != after.limitState || (old?.positionState ?? .ok) != after.positionState
            }
            #expect(limits == flipped, "seed \(seed) \(event)")
            #expect(deskLimits == (ledger.desk.limitState == before.2.limitState ? [] : [ledger.desk]), "seed \(seed) \(event)")
            // States as defined: gross against the position limit, the desk's loss against its limit.
            for account in ledger.accounts {
                let expected: LimitState = account.grossContracts >= 12 ? .breached : account.grossContracts * 10 >= 96 ? .warning : .ok
                #expect(account.positionState == expected)
            }
            let loss = ledger.desk.total.units < 0 ? -ledger.desk.total.units : 0
            #expect(ledger.desk.limitUsed.units == loss)
            #expect(ledger.desk.limitState == (loss >= Money(dollars: 2500).units ? .breached
                                              : loss * 10 >= Money(dollars: 2500).units * 8 ? .warning : .ok))

        }
    }

    /// Every truncation is refused; corrupted bytes never trap (they may restore to another
    /// ledger or be refused, but the process survives).
    @Test func restoreSurvivesTruncationAndCorruption() throws {
        var generator = EventGenerator(seed: 5)
        var ledger = Ledger(catalog: defaultCatalog)
        for event in generator.events(60, openingMarks: true) { _ = try? ledger.apply(event) }
        let bytes = ledger.encodeState()
        for length in 0..<bytes.count {
            #expect(throws: CheckpointError.self) {
                try Ledger.restore(from: Array(bytes[0..<length]), catalog: defaultCatalog, config: LedgerConfig())
            }
        }
        var random = SeededRandom(seed: 11)
        for _ in 0..<2000 {
            var corrupted = bytes
            corrupted[4 + random.below(bytes.count - 4)] ^= UInt8(1 + random.below(255))
            _ = try? Ledger.restore(from: corrupted, catalog: defaultCatalog, config: LedgerConfig())
        }
        let narrow = try InstrumentCatalog(instruments: [instrument("ESZ6")])
        #expect(throws: CheckpointError.self) { try Ledger.restore(from: bytes, catalog: narrow, config: LedgerConfig()) }
    }

    @Test func restoreRefusesGarbage() {
        #expect(throws: CheckpointError.self) { try Ledger.restore(from: Array("nope".utf8), catalog: defaultCatalog, config: LedgerConfig()) }
    }
}
