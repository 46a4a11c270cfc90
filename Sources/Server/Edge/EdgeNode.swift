import Bytes
import Dispatch
import EventSources
import Hub
import JSON
import Reactor
import StreamEngine
import Wire

/// An edge's upstream side: loads the state (the core's snapshot, or an empty state when the
/// stream still starts at seq 1), then follows the stream, checks every entry (epoch, next seq,
/// readable messages) and hands each event to the hub. Anything wrong upstream is refused,
/// reported on the `upstream` status (a status delta, /healthz, /metrics) and answered by
/// loading the state again; subscribers then get a `resync` snapshot.
///
/// Bootstrap, the way Centrifugo documents it for races: read the stream's bounds, load state at
/// a seq S (the core's snapshot is at its last commit), check that the stream still holds the
/// entries after S (S + 1 ≥ first), read the window up to S into memory for resumes, then read
/// the stream from just after S. Entries at or below S that arrive are skipped; a gap is refused.
///
/// Loop-confined.
final class EdgeNode: StreamFollowerDelegate {
    enum Phase: String { case starting, loading, following }

    let state: EdgeState
    let follower: RedisStreamFollower
    let core: String?
    private let coreToken: String?
    private let hub: Hub
    private let hubBound: LoopBound<Hub>
    private let loop: EventLoop
    private let statusBoard: StatusBoard
    private let log: @Sendable (String) -> Void
    private(set) var phase = Phase.starting
    private(set) var connected = false
    private(set) var refusals = 0
    private(set) var loads = 0
    private(set) var lastProblem: String?
    private var loadGeneration = 0
    private var epochBeforeLoad: String?

    init(state: EdgeState, follower: RedisStreamFollower, core: String?, coreToken: String?, hub: Hub, loop: EventLoop,
         statusBoard: StatusBoard, log: @escaping @Sendable (String) -> Void) {
        self.state = state
        self.follower = follower
        self.core = core
        self.coreToken = coreToken
        self.hub = hub
        self.hubBound = LoopBound(hub, on: loop)
        self.loop = loop
        self.statusBoard = statusBoard
        self.log = log
    }

    func start() {
        follower.delegate = self
        report()
        follower.start()
    }

    func stop() { follower.stop() }

    // MARK: Status

    /// The `upstream` monitor: running while connected, following and the core is heard from.
    var upstream: MonitorStatus {
        if !connected {
            return MonitorStatus(name: "upstream", state: phase == .starting ? .starting : .degraded,
                                 lastError: "stream engine unreachable: \(lastProblem ?? "connecting"); serving seq \(state.lastSeq)")
        }
        if phase != .following {
            return MonitorStatus(name: "upstream", state: .starting, lastError: lastProblem.map { "loading state: \($0)" })
        }
        if follower.coreAlive == false {
            return MonitorStatus(name: "upstream", state: .degraded,
                                 lastError: "core not heard from: serving seq \(state.lastSeq) until it publishes again")
        }
        return MonitorStatus(name: "upstream", state: .running)
    }

    private func report() { statusBoard.report(upstream) }

    // MARK: StreamFollowerDelegate

    func follower(_ follower: any StreamFollower, connected up: Bool, reason: String?) {
        connected = up
        if up {
            lastProblem = nil
            if state.loaded { checkPosition() } else { load() }
        } else {
            lastProblem = reason
            self.follower.stopFollowing()
        }
        report()
    }

    func follower(_ follower: any StreamFollower, received entries: [StreamEntry]) {
        guard phase == .following else { return }
        var events: [CommittedEvent] = []
        for entry in entries where entry.seq > state.lastSeq {
            do { events.append(try state.apply(entry)) } catch {
                publish(events)
                refuse(error.description)
                return
            }
        }
        publish(events)
    }

    func follower(_ follower: any StreamFollower, refused reason: String) { refuse(reason) }

    func follower(_ follower: any StreamFollower, coreAlive: Bool) {
        log(coreAlive ? "core heard from (its heartbeat key is present)" : "core not heard from: serving seq \(state.lastSeq)")
        report()
    }

    /// Through the mailbox, like the core's committed batches: a snapshot read on the loop
    /// before this point is delivered before it (see `SubscriptionSource`).
    private func publish(_ events: [CommittedEvent]) {
        guard !events.isEmpty else { return }
        hubBound.post { $0.publish(events) }
    }

    private func refuse(_ reason: String) {
        refusals += 1
        lastProblem = reason
        log("upstream input refused: \(reason); loading the state again")
        follower.stopFollowing()
        phase = .loading
        report()
        load()
    }

    // MARK: Loading

    /// After a reconnect: go on from `lastSeq` if the stream still holds what follows it and is
    /// the same epoch; else load again.
    private func checkPosition() {
        follower.bounds { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(.down): return
            case .failure(.refused(let reason)): refuse(reason)
            case .success(let bounds):
                if let last = bounds.last, let epoch = state.epoch, last.epoch != epoch {
                    refuse("the stream now holds epoch \(last.epoch), this edge followed epoch \(epoch)")
                } else if let first = bounds.first, first.seq > state.lastSeq + 1 {
                    lastProblem = "this edge is at seq \(state.lastSeq) and the stream now starts at seq \(first.seq)"
                    log("\(lastProblem ?? ""): loading the state again")
                    load()
                } else {
                    phase = .following
                    report()
                    follower.follow(after: state.lastSeq)
                }
            }
        }
    }

    private func load() {
        if phase == .following || phase == .starting { epochBeforeLoad = state.epoch }
        phase = .loading
        loadGeneration += 1
        let generation = loadGeneration
        follower.bounds { [weak self] result in
            guard let self, generation == loadGeneration else { return }
            switch result {
            case .failure(.down): return   // loaded again once connected
            case .failure(.refused(let reason)):
                retryLoad(because: reason)
            case .success(let bounds):
                if core != nil {
                    fetchCoreSnapshot(bounds: bounds, generation: generation)
                } else if bounds.first == nil || bounds.first?.seq == 1 {
                    state.loadEmpty(epoch: bounds.first?.epoch)
                    finishLoad()
                } else {
                    retryLoad(because: "the stream starts at seq \(bounds.first?.seq ?? 0), not 1: start the edge with --core to load a snapshot")
                }
            }
        }
    }

    private func retryLoad(because reason: String, after seconds: Double = 1) {
        lastProblem = reason
        log("cannot load the state yet: \(reason); trying again in \(seconds) s")
        report()
        let generation = loadGeneration
        loop.schedule(after: seconds) { [weak self] in
            guard let self, generation == loadGeneration, connected else { return }
            load()
        }
    }

    private func fetchCoreSnapshot(bounds: (first: StreamEntry?, last: StreamEntry?), generation: Int) {
        guard let core else { return }
        let url = core + "/api/snapshot"
        let token = coreToken
        let back = LoopBound(self, on: loop)
        DispatchQueue.global().async {
            var headers: [String: String] = [:]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            let outcome: Result<String, FetchFailure>
            do {
                let reply = try URLSessionTransport().send(OutboundRequest(method: "GET", url: url, headers: headers), timeoutSeconds: 10)
                outcome = reply.status == 200 ? .success(reply.body) : .failure(FetchFailure(reason: "GET \(url) answered \(reply.status): \(reply.body.prefix(200))"))
            } catch {
                outcome = .failure(FetchFailure(reason: "GET \(url): \(error)"))
            }
            back.post { node in node.coreSnapshotArrived(outcome, bounds: bounds, generation: generation) }
        }
    }

    private func coreSnapshotArrived(_ outcome: Result<String, FetchFailure>, bounds: (first: StreamEntry?, last: StreamEntry?), generation: Int) {
        guard generation == loadGeneration else { return }
        let body: String
        switch outcome {
        case .failure(let failure): retryLoad(because: failure.reason); return
        case .success(let text): body = text
        }
        guard let json = try? JSONValue.parse(body), let seq = json["seq"]?.intValue, let epoch = json["epoch"]?.stringValue else {
            retryLoad(because: "the core's /api/snapshot is not a snapshot object")
            return
        }
        if let first = bounds.first, seq + 1 < first.seq {
            retryLoad(because: "the core's snapshot at seq \(seq) is older than the stream, which starts at seq \(first.seq)")
            return
        }
        if let last = bounds.last, last.epoch != epoch {
            retryLoad(because: "the stream holds epoch \(last.epoch) and the core is epoch \(epoch): waiting for the core to replace the stream")
            return
        }
        do { try state.load(snapshot: json) } catch {
            retryLoad(because: error.description)
            return
        }
        // The window up to the snapshot's seq, for resumes from before it.
        let from = max(bounds.first.map { $0.seq - 1 } ?? seq, seq - Int64(state.retain), 0)
        backfill(from: from, upTo: seq, collected: [], generation: generation)
    }

    private func backfill(from after: Int64, upTo: Int64, collected: [StreamEntry], generation: Int) {
        guard after < upTo else {
            do { try state.backfill(collected) } catch { log("the stream window before seq \(upTo) is not readable (\(error)); resumes start at seq \(upTo)") }
            finishLoad()
            return
        }
        follower.range(after: after, upTo: upTo, count: 1_000) { [weak self] result in
            guard let self, generation == loadGeneration else { return }
            switch result {
            case .failure(.down): return
            case .failure(.refused(let reason)):
                log("the stream window before seq \(upTo) is not readable (\(reason)); resumes start at seq \(upTo)")
                finishLoad()
            case .success(let page):
                // Only a contiguous run of this epoch ending at upTo is kept.
                var kept = collected
                for entry in page {
                    if entry.epoch != state.epoch || (kept.last.map { entry.seq != $0.seq + 1 } ?? false) { kept = [] }
                    kept.append(entry)
                }
                guard let last = page.last else {
                    do { try state.backfill(kept) } catch {}
                    finishLoad()
                    return
                }
                backfill(from: last.seq, upTo: upTo, collected: kept, generation: generation)
            }
        }
    }

    private func finishLoad() {
        loads += 1
        phase = .following
        lastProblem = nil
        log("state loaded at seq \(state.lastSeq) (epoch \(state.epoch ?? "not yet known")); resumes served after seq \(state.oldestResumable); following \(follower.endpoint)")
        if loads > 1 { resyncSubscribers(previousEpoch: epochBeforeLoad) }
        report()
        follower.follow(after: state.lastSeq)
    }

    /// After a reload every subscriber gets a `resync` snapshot of the new state, except one
    /// that is live at exactly the new seq of the same epoch (it already has that state).
    private func resyncSubscribers(previousEpoch: String?) {
        let seq = state.lastSeq
        // What the hub published before the reload may be of another epoch: no snapshot of the
        // new state may be followed by it.
        hubBound.post { $0.resetHistory(lastSeq: seq) }
        for subscriber in hub.subscribers.values {
            if previousEpoch == state.epoch && subscriber.phase == .live && subscriber.lastSeq == seq { continue }
            hub.awaitSnapshot(subscriber)
            let frame = state.snapshotFrame(filter: subscriber.filter, format: subscriber.format, resync: true,
                                            monitors: statusBoard.all)
            let id = subscriber.id
            hubBound.post { $0.deliverSnapshot(to: id, seq: seq, frame: frame) }
        }
    }
}

struct FetchFailure: Error { var reason: String }

/// Snapshots and resumes from the edge's state, on the loop.
/// An edge answers every read at once, on the loop, from the state it follows (never busy).
final class EdgeSource: SubscriptionSource {
    let node: EdgeNode
    init(node: EdgeNode) { self.node = node }

    var encoder: MessageEncoder { node.state.encoder }
    var epoch: String { node.state.epoch ?? "" }

    private var notLoaded: String { "this edge is still loading its state from the stream" }

    func snapshotFrame(filter: SubscriptionFilter, format: WireFormat, resync: Bool, monitors: @escaping @Sendable () -> [MonitorStatus],
                       then: @escaping @Sendable (SnapshotAnswer) -> Void) -> Bool {
        then(frame(filter: filter, format: format, resync: resync, monitors: monitors()))
        return true
    }

    private func frame(filter: SubscriptionFilter, format: WireFormat, resync: Bool, monitors: [MonitorStatus]) -> SnapshotAnswer {
        guard node.state.loaded else { return .refused(notLoaded) }
        return .frame(seq: node.state.lastSeq, frame: node.state.snapshotFrame(filter: filter, format: format, resync: resync, monitors: monitors))
    }

    func resume(since: Int64, epoch: String?, filter: SubscriptionFilter, format: WireFormat, continuing: Bool, maxBytes: Int,
                monitors: @escaping @Sendable () -> [MonitorStatus], then: @escaping @Sendable (ResumeAnswer) -> Void) -> Bool {
        guard node.state.loaded else {
            then(.resync(.refused(notLoaded)))
            return true
        }
        switch node.state.resume(since: since, epoch: epoch, filter: filter, format: format, continuing: continuing, maxBytes: maxBytes) {
        case .replay(let frames, let upTo, let complete): then(.replay(frames: frames, upTo: upTo, complete: complete))
        case .resync: then(.resync(frame(filter: filter, format: format, resync: true, monitors: monitors())))
        }
        return true
    }

    func snapshotBytes(filter: SubscriptionFilter, monitors: @escaping @Sendable () -> [MonitorStatus],
                       then: @escaping @Sendable (Result<[UInt8], SnapshotRefusal>) -> Void) -> Bool {
        guard node.state.loaded else {
            then(.failure(SnapshotRefusal(reason: notLoaded)))
            return true
        }
        then(.success(encoder.json(node.state.snapshot(filter: filter, resync: false, monitors: monitors()))))
        return true
    }

    func snapshotContent(filter: SubscriptionFilter, then: @escaping @Sendable (Snapshot?) -> Void) -> Bool {
        then(node.state.loaded ? node.state.snapshot(filter: filter, resync: false, monitors: []) : nil)
        return true
    }
}
