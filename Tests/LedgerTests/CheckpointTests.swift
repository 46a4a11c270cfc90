import Bytes
import Testing
@testable import Ledger

/// Incremental checkpoints (version 4): a head plus the fill log in segments that continue each
/// other, and the versions written before them.
@Suite struct CheckpointTests {
    static let config = LedgerConfig(accounts: ["C": AccountConfig(method: .average)])

    /// The events behind the version-3 fixture below: generated (seed 5, 120 events, busts,
    /// corrections, SOD and day rolls among them) and two orders.
    static func fixtureEvents() -> [LedgerEvent] {
        var generator = EventGenerator(seed: 5)
        return generator.events(120, openingMarks: true) + [newOrder("O1", .buy, 5, "110-08"), newOrder("O2", .sell, 2, "110-16")]
    }

    /// `encodeState()` of that ledger as version 3 wrote it (the last release before version 4).
    static let version3Fixture: [UInt8] = {
        let hex = [
        "4c574c4703000901410445535a3600000a020408090c191c2c333a0141045a4e5a36000106d083bdf151050e1e3038430141045a545a3600",
        "0104e8fd80fb4b050a2426324101420445535a3600010180b4be8ef42205252a2d3e3f0142045a4e5a36000107a88eef8152040f141d3d01",
        "42045a545a36000006050d12182b3601430445535a360200080110212f343b42450143045a4e5a3602000703161b203135400143045a545a",
        "3602000b060b15172223292e373944460258310367656e020102c69ecc804c80a8b4f9cdfbffea3100010480d08ab3d5fbffea3100025832",
        "0367656e06010e80adc4e2f82280f8e0ecdcfbffea310002071080e38ef4f62280909ba1dc8180eb31000258330367656e00010e80ace0cf",
        "f22280a8b4f9cdfbffea31000000000258340367656e070110a8efda99528098bad3fafbffea3100020704a8efda995280c0908d82fcffea",
        "31000258350367656e00010c80adc4e2f82280e8e6c689fcffea310002070c80adc4e2f8228090d1ebedffffea31000258360367656e0501",
        "089a99b3f84b8090bd8091fcffea31000000000258370367656e08010892bbf4f64b80b893ba98fcffea31000000000258380367656e0800",
        "02d492a4f74b8088c0ada7fcffea3100010702cacdab814c80c0dac2f0fdffea31000258390367656e00010c80b5a2a1fa2280b096e7aefc",
        "ffea3100000000035831300367656e00000c80b4be8ef42280d8eca0b6fcffea3100000000035831310367656e02010684c79c804c8080c3",
        "dabdfcffea3100000000035831320367656e08000aa090b8854c80f8c587d4fcffea3100000000035831330367656e00001080f2e6def322",
        "80f8c587d4fcffea3100000000035831340367656e05000ceef485884c80c8f2fae2fcffea3100000000035831350367656e010104a8efda",
        "995280f0c8b4eafcffea3100020704b08bc2eb5180e0ce8e97fdffea3100035831360367656e04010aa0cfc4e85180989feef1fcffea3100",
        "02070e8099a1925280a8929a998180eb3100035831370367656e06011a80bc9ccdf52280c0f5a7f9fcffea3100000000035831380367656e",
        "07000890f4b2fd518090a29b88fdffea310001048080a8f5b4fdffea3100035831390367656e050110c69ecc804c80e8cbe180fdffea3100",
        "000000035832300367656e02000ab6e2cefd4b80e0ce8e97fdffea3100010480d8b6d6a4feffea3100035832310367656e04000ab0ecad83",
        "5280d8d1bbadfdffea3100020706b0ecad835280c8bcb0d1feffea3100035832320367656e080006aad5b0fb4b80a8feaebcfdffea310000",
        "0000035832330367656e0701088099a192528080a8f5b4fdffea3100000000035832340367656e08010ee09fc2f94b80a081dcd2fdffea31",
        "00000000035832350367656e050010eac5a6874c80988489e9fdffea3100000000035832360367656e000010808a819bf82280e0b3a98efe",
        "ffea3100000000035832370367656e0201068098bdff4b80888ae395feffea3100010480808d90acfeffea3100035832380367656e07010a",
        "a0b0b0805280b0e09c9dfeffea3100000000035832390367656e00001080a8b1f0f12280a8e3c9b3feffea3100000000035833300367656e",
        "04000ed0e4a8895280d0b983bbfeffea3100000000035833310367656e01000c88f7df935280f88fbdc2feffea3100000000035833320367",
        "656e070002d0a2d1d95180a0e6f6c9feffea3100010480b8c28afefeffea3100035833330367656e07010680b8b5fa518098e9a3e0feffea",
        "3100000000035833340367656e06000e808a819bf8228090ecd0f6feffea3100000000035833350367656e080118c69ecc804c80e098c485",
        "ffffea3100000000035833360367656e08000ed0e3c4f64b8088effd8cffffea3100000000035833370367656e02000ecefc8a824c80a8c8",
        "e4aaffffea3100000000035833380367656e03010280eeb7fff22280d09e9eb2ffffea3100000000035833390367656e02000ae2e7e7854c",
        "80a0cb91c1ffffea3100000000035834300367656e01000cc089979e5280c8a1cbc8ffffea3100010480c08993d68080eb31000358343103",
        "67656e00011e80b08faff32280f0f784d0ffffea3100010480e8fab1e6ffffea3100035834320367656e08011cb2b3effc4b8098cebed7ff",
        "ffea3100000000035834330367656e03000a80fef3fcf52280c0a4f8deffffea3100000000035834340367656e05000aeac5a6874c80e0fd",
        "defcffffea3100000000035834350367656e00000880eeb7fff22280b8a7a5f5ffffea3100000000035834360367656e03000a8091fbc6f3",
        "2280b0aad28b8080eb3100000000035834370367656e08010ab0ccb5884c80a8adffa18080eb3100000000035834380367656e06000280b4",
        "be8ef42280d083b9a98080eb3100000000035834390367656e0101188099a1925280f8d9f2b08080eb3100000000035835300367656e0701",
        "0ef0fbb7f75180a0b0acb88080eb3100000000035835310367656e020108a090b8854c80f0dc9fc78080eb3100000000035835320367656e",
        "0000028099d985f5228098b3d9ce8080eb3100000000035835330367656e06001080899d88f2228090b686e58080eb310000000003583534",
        "0367656e07010af8bae290528088b9b3fb8080eb3100000000035835350367656e05010e8098bdff4b80b08fed828180eb31000000000358",
        "35360367656e080002bec08dff4b80d8e5a68a8180eb3100000000035835370367656e010006a0cfc4e85180c8eb80b78180eb3100000000",
        "035835380367656e08000aac9dd6874c80f0c1babe8180eb3100000000035835390367656e0000028095aaa6f422809898f4c58180eb3100",
        "000000035836300367656e06000880a5e6a3f72280c0eeadcd8180eb3100000000035836310367656e01000e98f185e75180e8c4e7d48180",
        "eb3100010480e0c794eb8180eb3100035836320367656e04000eb8e980ed5180b0f487fa8180eb3100000000035836330367656e03010680",
        "d8e5e8fa2280d8cac1818280eb3100000000035836340367656e03000c80d8e5e8fa228080a1fb888280eb3100000000035836350367656e",
        "07011ee0a0a68c5280a8f7b4908280eb3100000000035836360367656e020104e4cea1fa4b80d0cdee978280eb3100000000035836370367",
        "656e06010480e38ef4f62280f8a3a89f8280eb3100000000035836380367656e01010ed083bdf15180a0fae1a68280eb3100000000035836",
        "390367656e080108ae8490fc4b80a0fae1a68280eb3100000000035837300367656e06000880f3caf1f92280c0d3c8c48280eb3100000000",
        "030445535a368091fbc6f3228098fd8ebd8280eb310367656e045a4e5a36d0e4a8895280e0e2f9f38080eb310367656e045a545a36cacdab",
        "814c80889ecef28180eb310367656e030445535a360180c0d3c8c48280eb318a0180f3caf1f92200045a4e5a360180a0fae1a68280eb3186",
        "01d083bdf15100045a545a360180a0fae1a68280eb318801ae8490fc4b0002024f310441434331045a4e5a36008099a192520a0a00000280",
        "c0c0c5a9e480eb310474657374024f320441434331045a4e5a360180fa8caa52040400000280c0c0c5a9e480eb31047465737400",
        ].joined()
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }()

    static func sameState(_ a: Ledger, _ b: Ledger, _ label: String = "") {
        #expect(a.positions == b.positions, "\(label)")
        #expect(a.accounts == b.accounts, "\(label)")
        #expect(a.desk == b.desk, "\(label)")
        #expect(a.marks == b.marks, "\(label)")
        #expect(a.workingOrders == b.workingOrders, "\(label)")
        #expect(a.recentFills(limit: 1_000) == b.recentFills(limit: 1_000), "\(label)")
        for line in a.positions {
            #expect(a.openLots(account: line.account, instrument: line.instrument)
                    == b.openLots(account: line.account, instrument: line.instrument), "\(label) \(line.account) \(line.instrument)")
        }
    }

    @Test func aVersion3CheckpointRestoresToTheSameLedgerAndGoesOnTheSameWay() throws {
        var applied = Ledger(catalog: defaultCatalog, config: Self.config)
        for event in Self.fixtureEvents() { _ = try? applied.apply(event) }
        #expect(Self.version3Fixture[4] == 3)
        var restored = try Ledger.restore(from: Self.version3Fixture, catalog: defaultCatalog, config: Self.config)
        Self.sameState(restored, applied)
        #expect(restored.amendments.count == applied.amendments.count && !applied.amendments.isEmpty)
        // Written again it is version 4 (books keep the sorted order version 3 stored them in),
        // and that restores to the same state.
        let rewritten = restored.encodeState()
        #expect(rewritten[4] == 4)
        Self.sameState(try Ledger.restore(from: rewritten, catalog: defaultCatalog, config: Self.config), applied, "rewritten")
        var generator = EventGenerator(seed: 6)
        for event in generator.events(80, openingMarks: false) {
            var left: [LedgerDelta]?, right: [LedgerDelta]?
            do throws(LedgerError) { left = try applied.apply(event) } catch { left = nil }
            do throws(LedgerError) { right = try restored.apply(event) } catch { right = nil }
            #expect(left == right, "\(event)")
        }
        Self.sameState(restored, applied, "after more events")
    }

    /// A head with the log as stored across several checkpoints (each storing only the fills that
    /// arrived since the one before, cut into small segments) restores the same ledger as the
    /// whole blob, and the restored ledger applies what follows exactly as the original.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func incrementalSegmentsJoinIntoTheWholeCheckpoint(seed: UInt64) throws {
        var generator = EventGenerator(seed: seed)
        let events = generator.events(240, openingMarks: seed % 2 == 0)
        var ledger = Ledger(catalog: defaultCatalog, config: Self.config)
        var log: [FillLogSegment] = []
        var stored = 0
        var random = SeededRandom(seed: seed ^ 0xC0FFEE)
        for (step, event) in events.enumerated() {
            _ = try? ledger.apply(event)
            guard random.below(10) == 0 || step == events.count - 1 else { continue }
            let cut = ledger.checkpoint(fillsFrom: stored, segmentBytes: 1 + random.below(200))
            #expect(cut.fillCount == ledger.fillCount)
            for segment in cut.segments {
                #expect(segment.first == (log.last.map { $0.first + $0.count } ?? 0), "segments continue the log")
                #expect(segment.count > 0)
                log.append(segment)
            }
            stored = cut.fillCount
            let whole = cut.head + log.flatMap(\.bytes)
            let same = whole == ledger.encodeState()
            #expect(same, "seed \(seed) step \(step)")
        }
        // The whole blob restores; then both go on alike.
        var restored = try Ledger.restore(from: ledger.encodeState(), catalog: defaultCatalog, config: Self.config)
        Self.sameState(restored, ledger)
        var more = EventGenerator(seed: seed + 100)
        for event in more.events(60, openingMarks: false) {
            var left: [LedgerDelta]?, right: [LedgerDelta]?
            do throws(LedgerError) { left = try ledger.apply(event) } catch { left = nil }
            do throws(LedgerError) { right = try restored.apply(event) } catch { right = nil }
            #expect(left == right, "seed \(seed) \(event)")
        }
        let same = restored.encodeState() == ledger.encodeState()
        #expect(same)
    }

    /// The head alone stays small however many fills the log holds: what a checkpoint costs is
    /// the fills since the last one.
    @Test func aCheckpointCarriesOnlyTheNewFills() {
        var ledger = Ledger(catalog: defaultCatalog)
        for i in 0..<2_000 {
            ledger.applyAll([fillEvent("E\(i)", i % 2 == 0 ? .buy : .sell, 1, "110-08", second: Int64(i))])
        }
        let all = ledger.checkpoint(fillsFrom: 0, segmentBytes: 1 << 20)
        let last = ledger.checkpoint(fillsFrom: 1_990, segmentBytes: 1 << 20)
        #expect(last.segments.map(\.count) == [10] && last.segments.first?.first == 1_990)
        #expect(all.segments.map(\.count) == [2_000])
        #expect(last.head == all.head)
        #expect(last.head.count < 200, "head \(last.head.count) bytes")
        #expect(ledger.checkpoint(fillsFrom: 2_000, segmentBytes: 1 << 20).segments.isEmpty)
    }

    @Test func aLogThatDoesNotMatchItsHeadIsRefused() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        ledger.applyAll([fillEvent("E1", .buy, 1, "110-08"), fillEvent("E2", .sell, 1, "110-09", second: 1)])
        let cut = ledger.checkpoint(fillsFrom: 0, segmentBytes: 1)
        #expect(cut.segments.count == 2)
        // A segment missing, or one too many: never a ledger restored short or long.
        #expect(throws: CheckpointError.self) {
            try Ledger.restore(from: cut.head + cut.segments[0].bytes, catalog: defaultCatalog, config: LedgerConfig())
        }
        #expect(throws: CheckpointError.self) {
            try Ledger.restore(from: cut.head + cut.segments.flatMap(\.bytes) + cut.segments[1].bytes,
                               catalog: defaultCatalog, config: LedgerConfig())
        }
        let restored = try Ledger.restore(from: cut.head + cut.segments.flatMap(\.bytes), catalog: defaultCatalog, config: LedgerConfig())
        #expect(restored.fillCount == 2)
    }

    /// Book ids and arrivals are indexes, not counts: the last fills of a log name books whose
    /// ids exceed the bytes left after them (this once failed to restore past 60 books).
    @Test func theLastFillOfALogMayNameAnyBook() throws {
        var ledger = Ledger(catalog: defaultCatalog)
        for account in 0..<130 {
            ledger.applyAll([fillEvent("E\(account)", .buy, 1, "110-08", account: "A\(account)", second: Int64(account))])
        }
        ledger.applyAll([.bust(execId: "E129", time: at("2026-11-24T15:00:00Z"))])
        let restored = try Ledger.restore(from: ledger.encodeState(), catalog: defaultCatalog, config: LedgerConfig())
        Self.sameState(restored, ledger)
        #expect(restored.fill(execId: "E129")?.status == .busted)
    }
}
