import Bytes
import Ingest
import Wire

/// Where subscribers' snapshots and resumes come from: the core's pipeline (ledger and journal,
/// read on the pipeline thread) or an edge's stream state (read on the loop). The endpoints ask
/// through this, so `/ws`, `/api/snapshot` and the text commands are the same code on both.
///
/// Ordering contract: `then` runs where the source orders its reads with its publishes (the
/// pipeline thread between commits; the loop on an edge), and the caller posts the result to the
/// loop from there. Either way a snapshot at seq S reaches the hub before any batch after S.
/// Every read answers whether it was taken: a core refuses reads while its ingest queue is full
/// (`ServerContext.maxQueuedReads`), and the caller answers "busy" (503, close 4013).
protocol SubscriptionSource: AnyObject {
    var encoder: MessageEncoder { get }
    var epoch: String { get }

    @discardableResult
    func snapshotFrame(filter: SubscriptionFilter, format: WireFormat, resync: Bool, monitors: @escaping @Sendable () -> [MonitorStatus],
                       then: @escaping @Sendable (SnapshotAnswer) -> Void) -> Bool
    @discardableResult
    func resume(since: Int64, epoch: String?, filter: SubscriptionFilter, format: WireFormat, continuing: Bool, maxBytes: Int,
                monitors: @escaping @Sendable () -> [MonitorStatus], then: @escaping @Sendable (ResumeAnswer) -> Void) -> Bool
    /// The snapshot object as JSON (`/api/snapshot`); nil with a reason when none can be built.
    @discardableResult
    func snapshotBytes(filter: SubscriptionFilter, monitors: @escaping @Sendable () -> [MonitorStatus],
                       then: @escaping @Sendable (Result<[UInt8], SnapshotRefusal>) -> Void) -> Bool
    /// The snapshot's content for the text commands (`positions`, `pnl`, `fills`).
    @discardableResult
    func snapshotContent(filter: SubscriptionFilter, then: @escaping @Sendable (Snapshot?) -> Void) -> Bool
}

struct SnapshotRefusal: Error, Sendable { var reason: String }

enum SnapshotAnswer: Sendable {
    case frame(seq: Int64, frame: SharedBuffer)
    /// No snapshot can be built (the core's writes stopped; an edge not yet bootstrapped).
    case refused(String)
}

enum ResumeAnswer: Sendable {
    case replay(frames: [SharedBuffer], upTo: Int64, complete: Bool)
    case resync(SnapshotAnswer)
}

/// The core: reads run on the pipeline thread, between commits.
final class PipelineSource: SubscriptionSource {
    let pipeline: IngestPipeline
    init(pipeline: IngestPipeline) { self.pipeline = pipeline }

    var encoder: MessageEncoder { pipeline.encoder }
    var epoch: String { pipeline.epoch }

    @discardableResult
    func snapshotFrame(filter: SubscriptionFilter, format: WireFormat, resync: Bool, monitors: @escaping @Sendable () -> [MonitorStatus],
                       then: @escaping @Sendable (SnapshotAnswer) -> Void) -> Bool {
        pipeline.read(ifQueueBelow: ServerContext.maxQueuedReads) { read in
            Self.frame(read, filter: filter, format: format, resync: resync, monitors: monitors, then: then)
        }
    }

    /// `then` runs on the driver (a cached frame) or on the snapshot encoding queue: either
    /// way the caller posts the answer to the loop, where the hub orders it with the deltas.
    private static func frame(_ read: borrowing ReadContext, filter: SubscriptionFilter, format: WireFormat, resync: Bool,
                              monitors: () -> [MonitorStatus], then: @escaping @Sendable (SnapshotAnswer) -> Void) {
        // The reason is on /healthz; a close reason must stay within 123 bytes.
        if read.writesStopped != nil { return then(.refused("storage failed: writes stopped")) }
        read.snapshotFrame(filter: filter, format: format, resync: resync, monitors: monitors(), now: wallClockNanos()) { seq, frame in
            then(.frame(seq: seq, frame: frame))
        }
    }

    @discardableResult
    func resume(since: Int64, epoch: String?, filter: SubscriptionFilter, format: WireFormat, continuing: Bool, maxBytes: Int,
                monitors: @escaping @Sendable () -> [MonitorStatus], then: @escaping @Sendable (ResumeAnswer) -> Void) -> Bool {
        pipeline.read(ifQueueBelow: ServerContext.maxQueuedReads) { read in
            switch read.resume(since: since, epoch: epoch, filter: filter, format: format, continuing: continuing, maxBytes: maxBytes) {
            case .replay(let frames, let upTo, let complete):
                then(.replay(frames: frames, upTo: upTo, complete: complete))
            case .resync:
                Self.frame(read, filter: filter, format: format, resync: true, monitors: monitors) { then(.resync($0)) }
            }
        }
    }

    @discardableResult
    func snapshotBytes(filter: SubscriptionFilter, monitors: @escaping @Sendable () -> [MonitorStatus],
                       then: @escaping @Sendable (Result<[UInt8], SnapshotRefusal>) -> Void) -> Bool {
        pipeline.read(ifQueueBelow: ServerContext.maxQueuedReads) { read in
            if let reason = read.writesStopped {
                then(.failure(SnapshotRefusal(reason: reason)))
                return
            }
            then(.success(read.snapshotBytes(filter: filter, resync: false, monitors: monitors(), now: wallClockNanos())))
        }
    }

    @discardableResult
    func snapshotContent(filter: SubscriptionFilter, then: @escaping @Sendable (Snapshot?) -> Void) -> Bool {
        pipeline.read(ifQueueBelow: ServerContext.maxQueuedReads) { read in then(read.snapshot(filter: filter)) }
    }
}
