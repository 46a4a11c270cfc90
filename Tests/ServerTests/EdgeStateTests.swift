import Bytes
import ConfigFiles
import Foundation
import Ingest
import JSON
import Journal
import Ledger
import StreamEngine
import Synchronization
import Testing
import TestSupport
import Wire
@testable import Server

/// An edge's state, fed the stream entries a real pipeline committed, gives the core's snapshot
/// at every seq, for every filter; and its resumes are the core's journal replays.
/// What the pipeline published, taken in order by the test.
final class Published: Sendable {
    private let events = Mutex<[CommittedEvent]>([])
    func add(_ more: [CommittedEvent]) { events.withLock { $0 += more } }
    func take() -> [CommittedEvent] { events.withLock { all in defer { all = [] }; return all } }
}

@Suite struct EdgeStateTests {
    final class Core: @unchecked Sendable {
        let directory = TemporaryDirectory()
        let pipeline: IngestPipeline
        let published = Published()

        init() throws {
            let catalog = try InstrumentsFile.load(path: repositoryRoot + "/config/instruments.json")
            let journal = try Journal(JournalOptions(path: directory.path + "/core.db"))
            let config = LedgerConfig(defaultLossLimit: Money(decimal: "400"),
                                      accounts: ["ACC2": AccountConfig(method: .fifo, lossLimit: Money(decimal: "150"))])
            var options = IngestPipeline.Options()
            options.snapshotFills = 5   // so the edge's recent-fill window is exercised
            let published = self.published
            pipeline = try IngestPipeline(journal: journal, catalog: catalog, config: config, options: options) { events in
                published.add(events)
            }
            pipeline.start()
        }

        func submit(_ lines: [String]) {
            let done = DispatchSemaphore(value: 0)
            let messages = lines.compactMap { try? ProducerMessage.parse(json: $0) }
            pipeline.submit(messages, source: "test", cursor: nil) { _ in done.signal() }
            done.wait()
        }

        func read<T: Sendable>(_ body: @escaping @Sendable (borrowing ReadContext) -> T) -> T {
            let result = Mutex<T?>(nil)
            let done = DispatchSemaphore(value: 0)
            pipeline.read { context in
                result.withLock { $0 = body(context) }
                done.signal()
            }
            done.wait()
            return result.withLock { $0! }
        }

        func stop() {
            let done = DispatchSemaphore(value: 0)
            pipeline.stop { done.signal() }
            done.wait()
        }
    }

    static let filters: [SubscriptionFilter] = {
        var all = [SubscriptionFilter()]
        var accounts = SubscriptionFilter()
        accounts.accounts = ["ACC2"]
        var scoped = SubscriptionFilter(allowedAccounts: ["ACC1", "ACC3"])
        scoped.instruments = ["ZNZ6", "ESZ6"]
        var channels = SubscriptionFilter()
        channels.channels = [.fills, .marks]
        all += [accounts, scoped, channels]
        return all
    }()

    /// What the random stream has created so far, for busts, corrections and order changes.
    struct RandomBook {
        var execIds: [String] = []
        var orders: [(id: String, account: String, instrument: String, stem: String)] = []
    }

    func randomLines(_ count: Int, random: inout SeededRandom, book: inout RandomBook) -> [String] {
        let instruments = [("ZNZ6", "110-"), ("ZFZ6", "107-"), ("ESZ6", "6012.")]
        var lines: [String] = []
        func price(_ instrument: String, _ stem: String, _ random: inout SeededRandom) -> String {
            instrument == "ESZ6" ? stem + ["00", "25", "50", "75"][Int.random(in: 0..<4, using: &random)]
                                 : stem + String(format: "%02d", Int.random(in: 0..<32, using: &random))
        }
        for _ in 0..<count {
            let (instrument, stem) = instruments[Int.random(in: 0..<instruments.count, using: &random)]
            let account = "ACC\(Int.random(in: 1...3, using: &random))"
            let side = Bool.random(using: &random) ? "buy" : "sell"
            switch Int.random(in: 0..<14, using: &random) {
            case 0..<6:
                let execId = "E\(book.execIds.count)"
                book.execIds.append(execId)
                lines.append(#"{"type":"fill","execId":"\#(execId)","account":"\#(account)","instrument":"\#(instrument)","side":"\#(side)","qty":\#(Int.random(in: 1...5, using: &random)),"price":"\#(price(instrument, stem, &random))"}"#)
            case 6, 7:
                lines.append(#"{"type":"mark","instrument":"\#(instrument)","price":"\#(price(instrument, stem, &random))"}"#)
            case 8 where !book.execIds.isEmpty:
                lines.append(#"{"type":"bust","execId":"\#(book.execIds[Int.random(in: 0..<book.execIds.count, using: &random)])"}"#)
            case 9:
                guard let execId = book.execIds.randomElement(using: &random) else { continue }
                lines.append(#"{"type":"correct","execId":"\#(execId)","qty":\#(Int.random(in: 1...4, using: &random)),"price":"\#(price(instrument, stem, &random))"}"#)
            case 10:
                let id = "O\(book.orders.count)"
                book.orders.append((id, account, instrument, stem))
                lines.append(#"{"type":"order","action":"new","orderId":"\#(id)","account":"\#(account)","instrument":"\#(instrument)","side":"\#(side)","qty":\#(Int.random(in: 2...9, using: &random)),"price":"\#(price(instrument, stem, &random))"}"#)
            case 11:
                guard let order = book.orders.randomElement(using: &random) else { continue }
                lines.append(#"{"type":"order","action":"replace","orderId":"\#(order.id)","qty":\#(Int.random(in: 2...9, using: &random)),"price":"\#(price(order.instrument, order.stem, &random))"}"#)
            case 12:
                guard let order = book.orders.randomElement(using: &random) else { continue }
                lines.append(#"{"type":"order","action":"cancel","orderId":"\#(order.id)"}"#)
            default:
                // A fill against a working order (refused by the ledger when the order is gone).
                guard let order = book.orders.randomElement(using: &random) else { continue }
                let execId = "E\(book.execIds.count)"
                book.execIds.append(execId)
                lines.append(#"{"type":"fill","execId":"\#(execId)","orderId":"\#(order.id)","account":"\#(order.account)","instrument":"\#(order.instrument)","side":"\#(side)","qty":1,"price":"\#(price(order.instrument, order.stem, &random))"}"#)
            }
        }
        return lines
    }

    func entries(_ events: [CommittedEvent], epoch: String) -> [StreamEntry] {
        events.map { StreamEntry(seq: $0.seq, epoch: epoch, messages: StreamEntry.messagesArray($0.messages.map(\.jsonBytes))) }
    }

    @Test func snapshotsFromTheStreamAreTheCoresAtEverySeqForEveryFilter() throws {
        let core = try Core()
        defer { core.stop() }
        let state = EdgeState(encoder: core.pipeline.encoder, snapshotFills: 5, retain: 1_000)
        state.loadEmpty(epoch: nil)
        var random = SeededRandom(seed: 1515)
        var book = RandomBook()
        let epoch = core.pipeline.epoch
        var sawWorkingOrders = false
        for round in 0..<25 {
            core.submit(randomLines(Int.random(in: 1...8, using: &random), random: &random, book: &book))
            let events = core.published.take()
            for entry in entries(events, epoch: epoch) { _ = try state.apply(entry) }
            for filter in Self.filters {
                let expected = core.read { $0.snapshotBytes(filter: filter, resync: false, monitors: [], now: 7) }
                let got = core.pipeline.encoder.json(state.snapshot(filter: filter, resync: false, monitors: [], now: 7))
                #expect(String(decoding: got, as: UTF8.self) == String(decoding: expected, as: UTF8.self), "round \(round)")
            }
            sawWorkingOrders = sawWorkingOrders || !state.snapshot(filter: SubscriptionFilter(), resync: false, monitors: []).orders.isEmpty
        }
        #expect(state.rewrittenEntries == 0, "the edge writes every message as the core did")
        #expect(sawWorkingOrders, "the stream must reach working orders, or the comparison proves little for them")
    }

    @Test func loadingTheCoresSnapshotThenFollowingGivesTheSameSnapshots() throws {
        let core = try Core()
        defer { core.stop() }
        var random = SeededRandom(seed: 77)
        var book = RandomBook()
        core.submit(randomLines(60, random: &random, book: &book))
        _ = core.published.take()
        let snapshot = core.read { $0.snapshotBytes(filter: SubscriptionFilter(), resync: false, monitors: [], now: 7) }
        let state = EdgeState(encoder: core.pipeline.encoder, snapshotFills: 5, retain: 1_000)
        try state.load(snapshot: try JSONValue.parse(String(decoding: snapshot, as: UTF8.self)))
        #expect(String(decoding: core.pipeline.encoder.json(state.snapshot(filter: SubscriptionFilter(), resync: false, monitors: [], now: 7)), as: UTF8.self) == String(decoding: snapshot, as: UTF8.self))
        for _ in 0..<10 {
            core.submit(randomLines(5, random: &random, book: &book))
            let events = core.published.take()
            for entry in entries(events, epoch: core.pipeline.epoch) { _ = try state.apply(entry) }
            // Unfiltered snapshots match exactly; filtered ones too once enough fills went by
            // (the loaded snapshot holds only the last `snapshotFills` fills, the core looks at 4×).
            let expected = core.read { $0.snapshotBytes(filter: SubscriptionFilter(), resync: false, monitors: [], now: 7) }
            #expect(core.pipeline.encoder.json(state.snapshot(filter: SubscriptionFilter(), resync: false, monitors: [], now: 7)) == expected)
        }
    }

    @Test func resumesFromMemoryAreTheCoresJournalReplays() throws {
        let core = try Core()
        defer { core.stop() }
        var random = SeededRandom(seed: 9)
        var book = RandomBook()
        let state = EdgeState(encoder: core.pipeline.encoder, snapshotFills: 5, retain: 40)
        state.loadEmpty(epoch: core.pipeline.epoch)
        for _ in 0..<12 {
            core.submit(randomLines(6, random: &random, book: &book))
            let events = core.published.take()
            for entry in entries(events, epoch: core.pipeline.epoch) { _ = try state.apply(entry) }
        }
        let last = state.lastSeq
        #expect(state.oldestResumable == last - 40)
        let epoch = core.pipeline.epoch
        for since in [last - 40, last - 17, last - 1, last] {
            for filter in Self.filters {
                for format in [WireFormat.json, .text] {
                    guard case .replay(let frames, let upTo, let complete) = state.resume(since: since, epoch: epoch, filter: filter, format: format,
                                                                                         continuing: false, maxBytes: .max) else {
                        Issue.record("resync at since \(since)"); continue
                    }
                    let expected = core.read { context -> [[UInt8]] in
                        guard case .replay(let frames, _, _) = context.resume(since: since, epoch: epoch, filter: filter, format: format) else { return [] }
                        return frames.map { Array($0.bytes) }
                    }
                    #expect(frames.map { Array($0.bytes) } == expected && upTo == last && complete)
                }
            }
        }
        for (since, clientEpoch) in [(last - 41, epoch), (last + 1, epoch), (last, "other")] {
            guard case .resync = state.resume(since: since, epoch: clientEpoch, filter: SubscriptionFilter(), format: .json,
                                              continuing: false, maxBytes: .max) else {
                Issue.record("since \(since) epoch \(clientEpoch) was served"); continue
            }
        }
    }

    @Test func entriesOutOfOrderFromAnotherEpochOrUnreadableAreRefusedAndChangeNothing() throws {
        let core = try Core()
        defer { core.stop() }
        var random = SeededRandom(seed: 3)
        var book = RandomBook()
        core.submit(randomLines(10, random: &random, book: &book))
        let events = core.published.take()
        let good = entries(events, epoch: core.pipeline.epoch)
        let state = EdgeState(encoder: core.pipeline.encoder, snapshotFills: 5, retain: 100)
        state.loadEmpty(epoch: core.pipeline.epoch)
        _ = try state.apply(good[0])
        let before = core.pipeline.encoder.json(state.snapshot(filter: SubscriptionFilter(), resync: false, monitors: [], now: 1))
        var wrongEpoch = good[1]
        wrongEpoch.epoch = "0000"
        var wrongSeqInside = good[1]
        wrongSeqInside.seq = 2
        wrongSeqInside.messages = good[2].messages   // messages of seq 3 under ID 2
        var unreadable = good[1]
        unreadable.messages = Array(#"[{"type":"fill","seq":2}]"#.utf8)
        for (bad, reason) in [(good[2], "does not follow"), (wrongEpoch, "epoch"), (wrongSeqInside, "another seq"),
                              (unreadable, "cannot read"), (StreamEntry(seq: 2, epoch: core.pipeline.epoch, messages: Array("[]".utf8)), "no readable")] {
            do {
                _ = try state.apply(bad)
                Issue.record("accepted \(reason)")
            } catch {
                #expect(error.description.contains(reason), "\(error.description)")
            }
            #expect(state.lastSeq == good[0].seq)
            #expect(core.pipeline.encoder.json(state.snapshot(filter: SubscriptionFilter(), resync: false, monitors: [], now: 1)) == before)
        }
        _ = try state.apply(good[1])
        #expect(state.lastSeq == good[1].seq)
    }
}
