import Bytes
import JSON
import Ledger

/// The first message of every subscription: the state at `seq` that the filter lets through.
/// Written by `MessageEncoder.json(_:)` (JSON) and `TextRenderer.lines(_:)` (terminals), entries
/// in the same shapes as the deltas that follow.
public struct Snapshot: Sendable {
    public var seq: Int64
    public var epoch: String
    /// True when it replaces a resume that could not be served.
    public var resync: Bool
    public var time: Nanos
    public var positions: [PositionLine]
    public var accounts: [AccountTotals]
    /// Nil for a viewer scoped to some accounts: desk totals aggregate them all.
    public var desk: DeskTotals?
    public var marks: [MarkRecord]
    /// The newest fills, each with the seq of the event that stored it.
    public var fills: [(record: FillRecord, seq: Int64?)]
    public var monitors: [MonitorStatus]
    public var filter: SubscriptionFilter
    /// The working orders, sorted by (account, instrument, orderId).
    public var orders: [OrderRecord]

    public init(seq: Int64, epoch: String, resync: Bool, time: Nanos, positions: [PositionLine], accounts: [AccountTotals],
                desk: DeskTotals?, marks: [MarkRecord], fills: [(record: FillRecord, seq: Int64?)], monitors: [MonitorStatus],
                filter: SubscriptionFilter, orders: [OrderRecord] = []) {
        self.seq = seq; self.epoch = epoch; self.resync = resync; self.time = time
        self.positions = positions; self.accounts = accounts; self.desk = desk; self.marks = marks
        self.fills = fills; self.monitors = monitors; self.filter = filter; self.orders = orders
    }
}

extension MessageEncoder {
    /// The snapshot object of docs/protocol.md.
    public func json(_ snapshot: Snapshot) -> [UInt8] {
        var out = JSONBytes(reservingCapacity: 64 * 1024)
        out.openObject()
        out.key("type"); out.string(static: "snapshot")
        out.key("seq"); out.int(snapshot.seq)
        out.key("epoch"); out.string(snapshot.epoch)
        out.key("resync"); out.bool(snapshot.resync)
        out.key("time"); out.time(snapshot.time)
        out.key("instruments"); out.openArray()
        for instrument in catalog.all { writeInstrument(instrument, to: &out) }
        out.closeArray()
        out.key("positions"); out.openArray()
        for line in snapshot.positions { writePosition(line, .entry, to: &out) }
        out.closeArray()
        out.key("accounts"); out.openArray()
        for totals in snapshot.accounts { writeAccount(totals, .entry, to: &out) }
        out.closeArray()
        out.key("desk")
        if let desk = snapshot.desk { writeDesk(desk, .entry, to: &out) } else { out.null() }
        out.key("marks"); out.openArray()
        for mark in snapshot.marks { writeMark(mark, .entry, to: &out) }
        out.closeArray()
        out.key("orders"); out.openArray()
        for order in snapshot.orders { writeOrder(order, .entry, to: &out) }
        out.closeArray()
        out.key("fills"); out.openArray()
        for (record, seq) in snapshot.fills { writeFill(record, .message(seq: seq), to: &out) }
        out.closeArray()
        out.key("monitors"); out.openArray()
        for status in snapshot.monitors { writeMonitor(status, to: &out) }
        out.closeArray()
        out.key("filter"); out.value(snapshot.filter.jsonValue)
        out.closeObject()
        return out.bytes
    }
}

extension TextRenderer {
    /// The snapshot for terminals: a header line, then one line per position, account, desk
    /// total, mark and working order, rendered like the deltas that will follow.
    public func lines(_ snapshot: Snapshot) -> String {
        var lines = ["#\(snapshot.seq) SNAPSHOT epoch \(snapshot.epoch)\(snapshot.resync ? " (resync)" : "") — type 'help' for commands"]
        lines += snapshot.positions.map { line(.position($0, seq: nil)) }
        lines += snapshot.accounts.map { line(.accountPnL($0, seq: nil)) }
        if let desk = snapshot.desk { lines.append(line(.deskPnL(desk, seq: nil))) }
        lines += snapshot.marks.map { line(.mark($0, seq: nil)) }
        lines += snapshot.orders.map { line(.order($0, seq: nil)) }
        return lines.joined(separator: "\n")
    }
}
