import ConfigFiles
import Foundation
import JSON
import Journal
import Ledger
import Synchronization
import Wire
@testable import Ingest

/// A pipeline over a fresh journal in a temporary directory, with helpers that wait for answers.
final class PipelineHarness: @unchecked Sendable {
    let directory: String
    let journalPath: String
    let catalog: InstrumentCatalog
    let published = Mutex<[CommittedEvent]>([])
    /// Everything the pipeline thread did, in order: "publish:<seq>" and "reply".
    let order = Mutex<[String]>([])
    var pipeline: IngestPipeline!
    var journal: Journal!
    /// The journal as the pipeline sees it: faults can be injected under it.
    var store: FailingStore!

    static func repositoryFile(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(relative).path
    }

    /// The SQLite VFS the journal is opened through (nil: the default; tests pass the faulty one).
    let vfs: String?

    /// Who drains the pipeline's queue (the harness's default: its own thread).
    let driver: IngestPipeline.Driver

    /// `IngestPipeline.Options.checkpointPieceBytes` (nil: the default).
    let checkpointPieceBytes: Int?

    init(checkpointEvery: Int = 10_000, checkpointPieceBytes: Int? = nil, directory: String? = nil, vfs: String? = nil,
         driver: IngestPipeline.Driver = .ownThread) throws {
        self.vfs = vfs
        self.checkpointPieceBytes = checkpointPieceBytes
        self.driver = driver
        self.directory = directory ?? NSTemporaryDirectory() + "ingest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        journalPath = self.directory + "/journal.db"
        catalog = try InstrumentsFile.load(path: Self.repositoryFile("config/instruments.json"))
        try open(checkpointEvery: checkpointEvery)
    }

    func open(checkpointEvery: Int = 10_000) throws {
        var journalOptions = JournalOptions(path: journalPath)
        journalOptions.vfs = vfs
        journal = try Journal(journalOptions)
        store = FailingStore(journal)
        var options = IngestPipeline.Options()
        options.checkpointEvery = checkpointEvery
        if let checkpointPieceBytes { options.checkpointPieceBytes = checkpointPieceBytes }
        pipeline = try IngestPipeline(journal: store, catalog: catalog, config: LedgerConfig(), options: options) { [unowned self] events in
            published.withLock { $0 += events }
            order.withLock { $0 += events.map { "publish:\($0.seq)" } }
        }
        pipeline.start(driver: driver)
    }

    /// Stops the thread and closes the journal (a clean shutdown).
    func close() {
        let done = DispatchSemaphore(value: 0)
        pipeline.stop { done.signal() }
        done.wait()
        journal.close()
    }

    func submit(_ items: [IngestPipeline.Item], atomic: Bool = false, source: String = "test") -> [SubmitResult] {
        let done = DispatchSemaphore(value: 0)
        let box = Box<[SubmitResult]>([])
        pipeline.submit(items: items, source: source, atomic: atomic) { [unowned self] results in
            order.withLock { $0.append("reply") }
            box.value = results
            done.signal()
        }
        done.wait()
        return box.value
    }

    func submit(json lines: [String], atomic: Bool = false) -> [SubmitResult] {
        let items: [IngestPipeline.Item] = lines.map { line in
            do throws(MessageFormatError) { return .message(try ProducerMessage.parse(json: line)) } catch { return .refused(code: error.code, message: error.message, ref: error.ref) }
        }
        return submit(items, atomic: atomic)
    }

    func read<T>(_ body: @escaping @Sendable (borrowing ReadContext) -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Box<T?>(nil)
        pipeline.read { context in
            box.value = body(context)
            done.signal()
        }
        done.wait()
        return box.value!
    }

    /// The snapshot a subscriber with `filter` would get now, parsed.
    func snapshot(filter: SubscriptionFilter = SubscriptionFilter()) -> JSONValue {
        let bytes = read { $0.snapshotBytes(filter: filter, resync: false, monitors: [], now: 0) }
        return (try? JSONValue.parse(String(decoding: bytes, as: UTF8.self))) ?? .null
    }
}

final class Box<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

/// The worked example of domain.md §4 as producer messages.
enum WorkedExample {
    static let sod = #"{"type":"sod","account":"ACC1","instrument":"ZNZ6","qty":2,"price":"110'160"}"#
    static let fills = [
        #"{"type":"fill","execId":"F1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":3,"price":"110'185","time":"2026-11-24T14:00:01.000Z"}"#,
        #"{"type":"fill","execId":"F2","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":2,"price":"110-20","time":"2026-11-24T14:00:02.000Z"}"#,
        #"{"type":"fill","execId":"F3","account":"ACC1","instrument":"ZNZ6","side":"sell","qty":4,"price":"110-21+","time":"2026-11-24T14:00:03.000Z"}"#,
        #"{"type":"fill","execId":"F4","account":"ACC1","instrument":"ZNZ6","side":"sell","qty":6,"price":"110.53125","time":"2026-11-24T14:00:04.000Z"}"#,
        #"{"type":"fill","execId":"F5","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":2,"price":"110-14.5","time":"2026-11-24T14:00:05.000Z"}"#,
    ]
    static let mark = #"{"type":"mark","instrument":"ZNZ6","price":"110-16"}"#
}
