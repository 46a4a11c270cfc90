import Bytes
import JSON
import Journal
import Ledger
import Wire

/// What a read sees on the pipeline thread: the committed ledger, the journal, the encoder.
public struct ReadContext: ~Copyable {
    let pipeline: IngestPipeline

    public var ledger: Ledger { pipeline.ledger }
    public var journal: any EventStore { pipeline.journal }
    public var encoder: MessageEncoder { pipeline.encoder }
    public var lastSeq: Int64 { pipeline.journal.lastSeq }
    public var epoch: String { pipeline.epoch }
    /// Why writes stopped (a failed commit whose ledger rebuild failed too): the ledger may then
    /// hold events that were never stored, so no snapshot may be built from it.
    public var writesStopped: String? { pipeline.writesStopped }

    // MARK: Snapshot

    /// The snapshot object of docs/protocol.md, consistent at `lastSeq`, honouring the filter.
    public func snapshot(filter: SubscriptionFilter, resync: Bool, monitors: [MonitorStatus], now: Int64) -> JSONValue {
        let ledger = pipeline.ledger
        let encoder = pipeline.encoder
        let positions = ledger.positions.filter { filter.permits(account: $0.account) && filter.permits(instrument: $0.instrument) }
        let accounts = ledger.accounts.filter { filter.permits(account: $0.account) }
        let marks = ledger.marks.filter { filter.permits(instrument: $0.instrument) }
        let fills = ledger.recentFills(limit: pipeline.options.snapshotFills * 4)
            .filter { filter.permits(account: $0.fill.account) && filter.permits(instrument: $0.fill.instrument) }
            .suffix(pipeline.options.snapshotFills)
        var fields: [(String, JSONValue)] = [
            ("type", .string("snapshot")), ("seq", .int(lastSeq)), ("epoch", .string(epoch)), ("resync", .bool(resync)),
            ("time", .string(isoString(now))),
            ("instruments", .array(encoder.catalog.all.map { encoder.instrument($0) })),
            ("positions", .array(positions.map { stripType(encoder.position($0, seq: nil)) })),
            ("accounts", .array(accounts.map { stripType(encoder.account($0, seq: nil, type: "account")) })),
        ]
        // Desk totals aggregate every account: not for a viewer scoped to some of them.
        fields.append(("desk", filter.allowedAccounts == nil ? stripType(encoder.desk(ledger.desk, seq: nil)) : .null))
        fields += [
            ("marks", .array(marks.map { stripType(encoder.mark($0, seq: nil)) })),
            ("fills", .array(fills.map { encoder.fill($0, seq: pipeline.execIndex[$0.fill.execId]) })),
            ("monitors", .array(monitors.map(MessageEncoder.monitor))),
            ("filter", filter.jsonValue),
        ]
        return .object(fields)
    }

    /// The same snapshot written straight to JSON bytes (the connect path; `snapshot` builds the
    /// tree for the text format and for tests, which check the two agree).
    public func snapshotBytes(filter: SubscriptionFilter, resync: Bool, monitors: [MonitorStatus], now: Int64) -> [UInt8] {
        let ledger = pipeline.ledger
        let encoder = pipeline.encoder
        var out = JSONBytes(reservingCapacity: 64 * 1024)
        out.openObject()
        out.key("type"); out.string(static: "snapshot")
        out.key("seq"); out.int(lastSeq)
        out.key("epoch"); out.string(epoch)
        out.key("resync"); out.bool(resync)
        out.key("time"); out.time(now)
        out.key("instruments"); out.openArray()
        for instrument in encoder.catalog.all { encoder.appendInstrument(instrument, to: &out) }
        out.closeArray()
        out.key("positions"); out.openArray()
        for line in ledger.positions where filter.permits(account: line.account) && filter.permits(instrument: line.instrument) {
            encoder.appendSnapshotPosition(line, to: &out)
        }
        out.closeArray()
        out.key("accounts"); out.openArray()
        for totals in ledger.accounts where filter.permits(account: totals.account) { encoder.appendSnapshotAccount(totals, to: &out) }
        out.closeArray()
        out.key("desk")
        if filter.allowedAccounts == nil { encoder.appendSnapshotDesk(ledger.desk, to: &out) } else { out.null() }
        out.key("marks"); out.openArray()
        for mark in ledger.marks where filter.permits(instrument: mark.instrument) { encoder.appendSnapshotMark(mark, to: &out) }
        out.closeArray()
        out.key("fills"); out.openArray()
        let fills = ledger.recentFills(limit: pipeline.options.snapshotFills * 4)
            .filter { filter.permits(account: $0.fill.account) && filter.permits(instrument: $0.fill.instrument) }
            .suffix(pipeline.options.snapshotFills)
        for record in fills { encoder.appendFill(record, seq: pipeline.execIndex[record.fill.execId], to: &out) }
        out.closeArray()
        out.key("monitors"); out.openArray()
        for status in monitors { out.value(MessageEncoder.monitor(status)) }
        out.closeArray()
        out.key("filter"); out.value(filter.jsonValue)
        out.closeObject()
        return out.bytes
    }

    /// The snapshot as one frame in the subscriber's format.
    /// The last snapshot frames built, all at one seq: a connect storm (many clients with the
    /// same filter between two commits) costs one build, not one per client.
    final class SnapshotCache {
        struct Key: Hashable {
            var filter: SubscriptionFilter
            var format: WireFormat
            var resync: Bool
            var monitors: [String]
        }
        var seq: Int64 = -1
        var frames: [Key: SharedBuffer] = [:]
    }

    public func snapshotFrame(filter: SubscriptionFilter, format: WireFormat, resync: Bool, monitors: [MonitorStatus],
                              now: Int64) -> SharedBuffer {
        let cache = pipeline.snapshotCache
        if cache.seq != lastSeq {
            cache.seq = lastSeq
            cache.frames.removeAll(keepingCapacity: true)
        }
        let key = SnapshotCache.Key(filter: filter, format: format, resync: resync,
                                    monitors: monitors.map { "\($0.name)|\($0.state.rawValue)|\($0.lastError ?? "")" })
        if let frame = cache.frames[key] { return frame }
        let frame: SharedBuffer
        switch format {
        case .json: frame = Frames.text(bytes: snapshotBytes(filter: filter, resync: resync, monitors: monitors, now: now))
        case .text: frame = Frames.text(textSnapshot(snapshot(filter: filter, resync: resync, monitors: monitors, now: now)))
        }
        if cache.frames.count >= 64 { cache.frames.removeAll(keepingCapacity: true) }
        cache.frames[key] = frame
        return frame
    }

    private func textSnapshot(_ value: JSONValue) -> String {
        let renderer = TextRenderer(encoder: pipeline.encoder)
        var lines: [String] = []
        let resync = value["resync"] == .bool(true) ? " (resync)" : ""
        lines.append("#\(lastSeq) SNAPSHOT epoch \(epoch)\(resync) — type 'help' for commands")
        func each(_ key: String, as type: String) {
            guard case .array(let items)? = value[key] else { return }
            for item in items {
                guard case .object(var fields) = item else { continue }
                fields.removeAll { $0.0 == "type" }
                fields.insert(("type", .string(type)), at: 0)
                if type == "pnl" { fields.insert(("scope", .string(key == "desk" ? "desk" : "account")), at: 1) }
                lines.append(renderer.line(.object(fields)))
            }
        }
        each("positions", as: "position")
        each("accounts", as: "pnl")
        if let desk = value["desk"], desk != .null {
            guard case .object(var fields) = desk else { return lines.joined(separator: "\n") }
            fields.insert(("type", .string("pnl")), at: 0)
            fields.insert(("scope", .string("desk")), at: 1)
            lines.append(renderer.line(.object(fields)))
        }
        each("marks", as: "mark")
        return lines.joined(separator: "\n")
    }

    private func stripType(_ value: JSONValue) -> JSONValue {
        guard case .object(let fields) = value else { return value }
        return .object(fields.filter { $0.0 != "type" && $0.0 != "scope" })
    }

    // MARK: Resume

    public enum ResumePlan {
        /// Frames for (since, upTo], led by a `resumed` message on the first chunk. When not
        /// `complete`, more follow: the caller asks again from `upTo` once the client has drained.
        case replay(frames: [SharedBuffer], upTo: Int64, complete: Bool)
        /// The resume cannot be served: send a resync snapshot instead.
        case resync(reason: String)
    }

    /// Reads the journal after `since` for one subscriber. A replay larger than `maxBytes` comes
    /// in chunks (whole events only), so it never has to sit in the outbound queue all at once.
    public func resume(since: Int64, epoch clientEpoch: String?, filter: SubscriptionFilter, format: WireFormat,
                       continuing: Bool = false, maxBytes: Int = .max) -> ResumePlan {
        let last = lastSeq
        if !continuing {
            guard clientEpoch == epoch else { return .resync(reason: "epoch differs") }
            guard since >= 0, since <= last else { return .resync(reason: "since is beyond the journal") }
            guard last - since <= Int64(pipeline.options.maxResumeEvents) else { return .resync(reason: "too far behind") }
        }
        let renderer = TextRenderer(encoder: pipeline.encoder)
        var frames: [SharedBuffer] = []
        var bytes = 0
        if !continuing {
            let resumed = JSONValue.object([("type", .string("resumed")), ("since", .int(since)), ("seq", .int(last)), ("epoch", .string(epoch))])
            frames.append(Frames.text(format == .json ? resumed.serialized : renderer.line(resumed)))
        }
        var after = since
        while after < last {
            guard let records = try? journal.events(after: after, limit: 1_000), !records.isEmpty else {
                return .resync(reason: "journal read failed")
            }
            for record in records where record.seq <= last {
                if case .array(let messages)? = try? JSONValue.parse(record.deltas) {
                    for message in messages {
                        guard let (channel, account, instrument) = MessageEncoder.routing(of: message),
                              filter.matches(channel: channel, account: account, instrument: instrument) else { continue }
                        let frame = Frames.text(format == .json ? message.serialized : renderer.line(message))
                        bytes += frame.count
                        frames.append(frame)
                    }
                }
                after = record.seq
                if bytes >= maxBytes && after < last { return .replay(frames: frames, upTo: after, complete: false) }
            }
        }
        return .replay(frames: frames, upTo: last, complete: true)
    }
}
