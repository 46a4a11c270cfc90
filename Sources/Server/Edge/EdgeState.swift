import Bytes
import JSON
import Ledger
import StreamEngine
import Wire

/// What an edge keeps instead of a ledger and a journal: the keyed state a snapshot needs (the
/// latest position line per account × instrument, totals per account, the desk totals, the mark
/// per instrument, the recent fills) and the last events for resumes, all rebuilt from the
/// messages the core wrote. Every message already carries the full new state of its key, so
/// applying an event is a replacement per key, and a snapshot built here at seq S is the core's
/// snapshot at S (same entries, same order: positions by account then instrument, accounts by
/// name, marks in catalog order, fills in arrival order).
///
/// Loop-confined.
final class EdgeState {
    struct Refusal: Error, CustomStringConvertible { var description: String }

    let encoder: MessageEncoder
    let snapshotFills: Int
    /// Events kept for resumes (the stream window's size by default).
    let retain: Int
    private(set) var epoch: String?
    private(set) var lastSeq: Int64 = 0
    private(set) var loaded = false

    private struct PositionKey: Hashable, Comparable {
        var account: String, instrument: String
        static func < (a: Self, b: Self) -> Bool { (a.account, a.instrument) < (b.account, b.instrument) }
    }
    private var positions: [PositionKey: PositionLine] = [:]
    private var accounts: [String: AccountTotals] = [:]
    private var desk = DeskTotals()
    private var marks: [String: MarkRecord] = [:]
    /// Working orders by orderId (an order that fills, cancels or is rejected leaves).
    private var orders: [String: OrderRecord] = [:]
    private let instrumentRank: [String: Int]
    /// Fills in arrival order (oldest first) with the seq of the event that stored each.
    private var fillOrder: [String] = []
    private var fillHead = 0
    private var fills: [String: (record: FillRecord, seq: Int64?)] = [:]
    /// The last events, oldest first, for resumes (`recentHead` is the first live index).
    private var recent: [CommittedEvent] = []
    private var recentHead = 0
    /// Entries whose messages, written again here, were not the core's bytes (schema drift).
    private(set) var rewrittenEntries = 0

    init(encoder: MessageEncoder, snapshotFills: Int, retain: Int) {
        self.encoder = encoder
        self.snapshotFills = snapshotFills
        self.retain = max(retain, 1)
        var rank: [String: Int] = [:]
        for (index, instrument) in encoder.catalog.all.enumerated() { rank[instrument.symbol] = index }
        instrumentRank = rank
    }

    // MARK: Loading

    /// Replaces everything with the core's snapshot object (`GET /api/snapshot`, unfiltered).
    func load(snapshot json: JSONValue) throws(Refusal) {
        guard json["type"]?.stringValue == "snapshot", let seq = json["seq"]?.intValue, seq >= 0,
              let epoch = json["epoch"]?.stringValue, !epoch.isEmpty else {
            throw Refusal(description: "the core's snapshot has no type, seq or epoch")
        }
        func entries(_ key: String, as type: String, scope: String? = nil) throws(Refusal) -> [SubscriberMessage] {
            guard case .array(let items)? = json[key] else { throw Refusal(description: "the core's snapshot has no '\(key)' list") }
            var out: [SubscriberMessage] = []
            for item in items {
                guard case .object(var fields) = item else { throw Refusal(description: "a '\(key)' entry is not an object") }
                if type != "fill" {
                    fields.insert(("type", .string(type)), at: 0)
                    if let scope { fields.insert(("scope", .string(scope)), at: 1) }
                }
                guard let message = SubscriberMessage(delta: .object(fields)) else {
                    throw Refusal(description: "a '\(key)' entry of the core's snapshot cannot be read")
                }
                out.append(message)
            }
            return out
        }
        let positionMessages = try entries("positions", as: "position")
        let accountMessages = try entries("accounts", as: "pnl", scope: "account")
        let markMessages = try entries("marks", as: "mark")
        let fillMessages = try entries("fills", as: "fill")
        let orderMessages = json["orders"] == nil ? [] : try entries("orders", as: "order")
        guard case .object(var deskFields)? = json["desk"] else { throw Refusal(description: "the core's snapshot has no desk (load it with an unscoped token)") }
        deskFields.insert(("type", .string("pnl")), at: 0)
        deskFields.insert(("scope", .string("desk")), at: 1)
        guard case .deskPnL(let deskTotals, _)? = SubscriberMessage(delta: .object(deskFields)) else {
            throw Refusal(description: "the desk of the core's snapshot cannot be read")
        }
        reset(epoch: epoch, seq: seq)
        desk = deskTotals
        for message in positionMessages + accountMessages + markMessages + fillMessages + orderMessages { apply(message, loading: true) }
        loaded = true
    }

    /// An empty state at seq 0: the edge follows a stream that still holds the first event.
    func loadEmpty(epoch: String?) {
        reset(epoch: epoch, seq: 0)
        loaded = true
    }

    private func reset(epoch: String?, seq: Int64) {
        self.epoch = epoch
        lastSeq = seq
        positions = [:]; accounts = [:]; desk = DeskTotals(); marks = [:]; orders = [:]
        fillOrder = []; fillHead = 0; fills = [:]
        recent = []; recentHead = 0
    }

    /// Adds events at or before the loaded seq (read from the stream window) so resumes from
    /// before the load are served too. `entries` end at `lastSeq`, contiguous, oldest first.
    func backfill(_ entries: [StreamEntry]) throws(Refusal) {
        guard recent.count == recentHead, let last = entries.last, last.seq == lastSeq else { return }
        var events: [CommittedEvent] = []
        for entry in entries.suffix(retain) { events.append(try event(from: entry).event) }
        recent = events
        recentHead = 0
    }

    // MARK: Following

    /// Checks and applies the next stream entry; returns the event to publish.
    func apply(_ entry: StreamEntry) throws(Refusal) -> CommittedEvent {
        if let epoch, entry.epoch != epoch {
            throw Refusal(description: "entry \(entry.seq) is from epoch \(entry.epoch), this edge follows epoch \(epoch)")
        }
        guard entry.seq == lastSeq + 1 else {
            throw Refusal(description: "entry \(entry.seq) does not follow seq \(lastSeq)")
        }
        let (event, messages) = try event(from: entry)
        epoch = entry.epoch
        for message in messages { apply(message) }
        lastSeq = entry.seq
        recent.append(event)
        if recent.count - recentHead > retain {
            recentHead += 1
            if recentHead > 4096 && recentHead * 2 > recent.count {
                recent.removeFirst(recentHead)
                recentHead = 0
            }
        }
        return event
    }

    /// The entry's messages read back typed and encoded again (a check that they are this
    /// schema); each carries the entry's seq.
    private func event(from entry: StreamEntry) throws(Refusal) -> (event: CommittedEvent, messages: [SubscriberMessage]) {
        guard case .array(let items)? = try? JSONValue.parse(String(decoding: entry.messages, as: UTF8.self)), !items.isEmpty else {
            throw Refusal(description: "entry \(entry.seq) has no readable messages")
        }
        var messages: [SubscriberMessage] = []
        var outbound: [OutboundMessage] = []
        for item in items {
            guard let message = SubscriberMessage(delta: item), item["seq"]?.intValue == entry.seq else {
                throw Refusal(description: "entry \(entry.seq) has a message this edge cannot read or with another seq")
            }
            messages.append(message)
            outbound.append(OutboundMessage(message, encoder: encoder))
        }
        if StreamEntry.messagesArray(outbound.map(\.jsonBytes)) != entry.messages { rewrittenEntries += 1 }
        return (CommittedEvent(seq: entry.seq, messages: outbound), messages)
    }

    /// `loading`: an entry of the core's snapshot (its recent fills in order, busted ones too).
    private func apply(_ message: SubscriberMessage, loading: Bool = false) {
        switch message {
        case .fill(let record, let seq):
            let execId = record.fill.execId
            if let known = fills[execId] {
                fills[execId] = (record, known.seq)   // a bust or correction: same place, first seq
            } else if record.status == .live || loading {
                fills[execId] = (record, seq)
                fillOrder.append(execId)
                let keep = snapshotFills * 4
                while fillOrder.count - fillHead > keep {
                    fills.removeValue(forKey: fillOrder[fillHead])
                    fillHead += 1
                }
                if fillHead > 4096 && fillHead * 2 > fillOrder.count {
                    fillOrder.removeFirst(fillHead)
                    fillHead = 0
                }
            }
            // A bust or correction of a fill older than the recent window: the core's recent
            // fills keep it at its old place, outside the window too, so it is not added here.
        case .position(let line, _):
            positions[PositionKey(account: line.account, instrument: line.instrument)] = line
        case .accountPnL(let totals, _):
            accounts[totals.account] = totals
        case .deskPnL(let totals, _):
            desk = totals
        case .mark(let record, _):
            marks[record.instrument] = record
        case .limit(let totals, _):
            var current = accounts[totals.account] ?? AccountTotals(account: totals.account)
            current.lossLimit = totals.lossLimit
            current.limitUsed = totals.limitUsed
            current.limitState = totals.limitState
            accounts[totals.account] = current
        case .deskLimit(let totals, _):
            desk.lossLimit = totals.lossLimit
            desk.limitUsed = totals.limitUsed
            desk.limitState = totals.limitState
        case .order(let record, _):
            // The snapshot lists working orders only, as the core's ledger does.
            if record.status == .working { orders[record.orderId] = record } else { orders.removeValue(forKey: record.orderId) }
        case .status, .heartbeat, .resumed, .error, .pong:
            break
        }
    }

    // MARK: Reading

    /// The snapshot at `lastSeq` for one filter, built like the core's `ReadContext.snapshot`.
    func snapshot(filter: SubscriptionFilter, resync: Bool, monitors: [MonitorStatus], now: Nanos = wallClockNanos()) -> Snapshot {
        let recentFills = fillOrder[fillHead...].compactMap { fills[$0] }
            .filter { filter.permits(account: $0.record.fill.account) && filter.permits(instrument: $0.record.fill.instrument) }
            .suffix(snapshotFills)
        return Snapshot(
            seq: lastSeq, epoch: epoch ?? "", resync: resync, time: now,
            positions: positions.keys.sorted().compactMap { positions[$0] }
                .filter { filter.permits(account: $0.account) && filter.permits(instrument: $0.instrument) },
            accounts: accounts.keys.sorted().compactMap { accounts[$0] }.filter { filter.permits(account: $0.account) },
            desk: filter.allowedAccounts == nil ? desk : nil,
            marks: marks.values.sorted { (instrumentRank[$0.instrument] ?? .max, $0.instrument) < (instrumentRank[$1.instrument] ?? .max, $1.instrument) }
                .filter { filter.permits(instrument: $0.instrument) },
            fills: recentFills.map { ($0.record, $0.seq) },
            monitors: monitors, filter: filter,
            orders: orders.values.filter { filter.permits(account: $0.account) && filter.permits(instrument: $0.instrument) }
                .sorted { ($0.account, $0.instrument, $0.orderId) < ($1.account, $1.instrument, $1.orderId) })
    }

    func snapshotFrame(filter: SubscriptionFilter, format: WireFormat, resync: Bool, monitors: [MonitorStatus]) -> SharedBuffer {
        let content = snapshot(filter: filter, resync: resync, monitors: monitors)
        switch format {
        case .json: return Frames.text(bytes: encoder.json(content))
        case .text: return Frames.text(TextRenderer(encoder: encoder).lines(content))
        }
    }

    /// The oldest seq a resume can start after (events (since, lastSeq] are all in memory).
    var oldestResumable: Int64 {
        guard recentHead < recent.count else { return lastSeq }
        return recent[recentHead].seq - 1
    }

    enum ResumePlan {
        case replay(frames: [SharedBuffer], upTo: Int64, complete: Bool)
        case resync(reason: String)
    }

    /// Frames for (since, lastSeq] from memory, like the core's journal replay (led by
    /// `resumed`, chunked by `maxBytes`).
    func resume(since: Int64, epoch clientEpoch: String?, filter: SubscriptionFilter, format: WireFormat,
                continuing: Bool, maxBytes: Int) -> ResumePlan {
        let last = lastSeq
        if !continuing {
            guard let epoch, clientEpoch == epoch else { return .resync(reason: "epoch differs") }
            guard since >= 0, since <= last else { return .resync(reason: "since is beyond this edge's seq") }
        }
        guard since >= oldestResumable else { return .resync(reason: "since is older than this edge's window") }
        var frames: [SharedBuffer] = []
        if !continuing {
            let resumed = SubscriberMessage.resumed(since: since, seq: last, epoch: epoch ?? "")
            frames.append(format == .json ? Frames.text(bytes: encoder.json(resumed)) : Frames.text(TextRenderer(encoder: encoder).line(resumed)))
        }
        var bytes = 0
        // Events are contiguous: the first one after `since` is at a known index.
        var index = recentHead + Int(since - oldestResumable)
        let everything = filter.passesEverything
        while index < recent.count {
            let event = recent[index]
            for message in event.messages
            where everything || filter.matches(channel: message.channel, account: message.account, instrument: message.instrument) {
                let frame = message.frame(for: format)
                bytes += frame.count
                frames.append(frame)
            }
            index += 1
            if bytes >= maxBytes && event.seq < last { return .replay(frames: frames, upTo: event.seq, complete: false) }
        }
        return .replay(frames: frames, upTo: last, complete: true)
    }
}
