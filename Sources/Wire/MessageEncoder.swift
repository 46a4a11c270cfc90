import Bytes
import JSON
import Ledger

/// The one JSON writer of the wire schema: every subscriber message, the snapshot's entries and
/// the instruments, written straight to bytes (no tree, no intermediate `String`s: the ingest
/// thread runs this for every delta of every fill). Field names follow docs/protocol.md.
public struct MessageEncoder: Sendable {
    public let catalog: InstrumentCatalog

    public init(catalog: InstrumentCatalog) { self.catalog = catalog }

    /// The JSON object of one message.
    public func json(_ message: SubscriberMessage) -> [UInt8] {
        var out = JSONBytes(reservingCapacity: 320)
        write(message, to: &out)
        return out.bytes
    }

    public func write(_ message: SubscriberMessage, to out: inout JSONBytes) {
        switch message {
        case .fill(let record, let seq): writeFill(record, .message(seq: seq), to: &out)
        case .position(let line, let seq): writePosition(line, .message(seq: seq), to: &out)
        case .accountPnL(let totals, let seq): writeAccount(totals, .message(seq: seq), to: &out)
        case .deskPnL(let totals, let seq): writeDesk(totals, .message(seq: seq), to: &out)
        case .mark(let record, let seq): writeMark(record, .message(seq: seq), to: &out)
        case .limit(let totals, let seq): writeLimit(totals, .message(seq: seq), to: &out)
        case .order(let record, let seq): writeOrder(record, .message(seq: seq), to: &out)
        case .deskLimit(let totals, let seq):
            open("limit", scope: "desk", .message(seq: seq), to: &out)
            writeDeskLimitFields(totals, to: &out)
            out.closeObject()
        case .status(let status):
            open("status", .message(seq: nil), to: &out)
            out.key("monitor"); out.string(status.name)
            writeMonitorFields(status, to: &out)
            out.closeObject()
        case .heartbeat(let seq, let time):
            open("heartbeat", .message(seq: seq), to: &out)
            out.key("time"); out.time(time)
            out.closeObject()
        case .resumed(let since, let seq, let epoch):
            out.openObject()
            out.key("type"); out.string(static: "resumed")
            out.key("since"); out.int(since)
            out.key("seq"); out.int(seq)
            out.key("epoch"); out.string(epoch)
            out.closeObject()
        case .error(let code, let message):
            out.openObject()
            out.key("type"); out.string(static: "error")
            out.key("code"); out.string(code)
            out.key("message"); out.string(message)
            out.closeObject()
        case .pong(let id, let seq):
            out.openObject()
            out.key("type"); out.string(static: "pong")
            if let id { out.key("id"); out.value(id) }
            out.key("seq"); out.int(seq)
            out.closeObject()
        }
    }

    /// The message every subscriber of the status channel gets when a monitor changes state.
    public func statusMessage(_ status: MonitorStatus) -> OutboundMessage {
        OutboundMessage(.status(status), encoder: self)
    }

    /// The messages one committed event caused. Each is encoded once, when a subscriber, the
    /// stream or an edge first needs it (see `OutboundMessage`): nothing is written here.
    public func messages(for deltas: [LedgerDelta], seq: Int64) -> [OutboundMessage] {
        deltas.map { OutboundMessage(SubscriberMessage($0, seq: seq), encoder: self) }
    }

    // MARK: Objects

    /// How an object starts: as a message (`"type"`, its seq when it has one, and `"scope"` for
    /// P&L) or as a snapshot entry (the same fields without them).
    public enum Header: Sendable {
        case message(seq: Int64?)
        case entry
    }

    private func open(_ type: StaticString, scope: StaticString? = nil, _ header: Header, to out: inout JSONBytes) {
        out.openObject()
        guard case .message(let seq) = header else { return }
        out.key("type"); out.string(static: type)
        if let seq { out.key("seq"); out.int(seq) }
        if let scope { out.key("scope"); out.string(static: scope) }
    }

    /// A fill; the snapshot's "fills" are whole messages too (with the fill's own seq, or none).
    public func writeFill(_ record: FillRecord, _ header: Header, to out: inout JSONBytes) {
        let fill = record.fill
        open("fill", header, to: &out)
        out.key("execId"); out.string(fill.execId)
        out.key("account"); out.string(fill.account)
        out.key("instrument"); out.string(fill.instrument)
        out.key("side"); out.string(static: fill.side == .buy ? "buy" : "sell")
        out.key("qty"); out.int(fill.qty)
        let instrument = catalogInstrument(fill.instrument)
        writePrice(fill.price, instrument: instrument, key: "price", decimalKey: "priceDecimal", to: &out)
        out.key("time"); out.time(fill.time)
        out.key("status"); out.string(static: Self.statusText(record.status))
        out.key("source"); out.string(fill.source)
        if let orderId = fill.orderId { out.key("orderId"); out.string(orderId) }
        if record.status == .corrected {
            if let qty = record.originalQty { out.key("origQty"); out.int(qty) }
            if let price = record.originalPrice {
                writePrice(price, instrument: instrument, key: "origPrice", decimalKey: "origPriceDecimal", to: &out)
            }
        }
        out.closeObject()
    }

    public func writePosition(_ line: PositionLine, _ header: Header, to out: inout JSONBytes) {
        open("position", header, to: &out)
        out.key("account"); out.string(line.account)
        out.key("instrument"); out.string(line.instrument)
        out.key("sodQty"); out.int(line.sodQty)
        out.key("bought"); out.int(line.bought)
        out.key("sold"); out.int(line.sold)
        out.key("net"); out.int(line.net)
        let instrument = catalogInstrument(line.instrument)
        writePrice(line.avgPrice, instrument: instrument, key: "avgPrice", decimalKey: "avgPriceDecimal", to: &out)
        writePrice(line.mark, instrument: instrument, key: "mark", decimalKey: "markDecimal", to: &out)
        out.key("markSource"); out.string(static: Self.markSourceText(line.markSource))
        out.key("realized"); out.money(line.realized)
        out.key("unrealized"); out.money(line.unrealized)
        out.key("total"); out.money(line.total)
        out.key("dv01"); out.money(line.dv01)
        out.key("lastFillTime"); out.time(line.lastFillTime)
        out.closeObject()
    }

    /// An account's P&L (`"type":"pnl","scope":"account"`; the snapshot's "accounts").
    public func writeAccount(_ totals: AccountTotals, _ header: Header, to out: inout JSONBytes) {
        open("pnl", scope: "account", header, to: &out)
        out.key("account"); out.string(totals.account)
        out.key("realized"); out.money(totals.realized)
        out.key("unrealized"); out.money(totals.unrealized)
        out.key("total"); out.money(totals.total)
        out.key("netContracts"); out.int(totals.netContracts)
        out.key("grossContracts"); out.int(totals.grossContracts)
        out.key("dv01"); out.money(totals.dv01)
        writeLimitFields(totals, to: &out)
        out.closeObject()
    }

    /// The desk's P&L (`"type":"pnl","scope":"desk"`; the snapshot's "desk").
    public func writeDesk(_ totals: DeskTotals, _ header: Header, to out: inout JSONBytes) {
        open("pnl", scope: "desk", header, to: &out)
        out.key("realized"); out.money(totals.realized)
        out.key("unrealized"); out.money(totals.unrealized)
        out.key("total"); out.money(totals.total)
        out.key("grossContracts"); out.int(totals.grossContracts)
        out.key("dv01"); out.money(totals.dv01)
        if totals.lossLimit != nil { writeDeskLimitFields(totals, to: &out) }
        out.closeObject()
    }

    /// The desk's loss limit, written only when one is configured.
    private func writeDeskLimitFields(_ totals: DeskTotals, to out: inout JSONBytes) {
        out.key("lossLimit"); out.money(totals.lossLimit)
        out.key("limitUsed"); out.money(totals.limitUsed)
        out.key("limitState"); out.string(static: Self.limitText(totals.limitState))
    }

    public func writeMark(_ mark: MarkRecord, _ header: Header, to out: inout JSONBytes) {
        open("mark", header, to: &out)
        out.key("instrument"); out.string(mark.instrument)
        writePrice(mark.price, instrument: catalogInstrument(mark.instrument), key: "price", decimalKey: "priceDecimal", to: &out)
        out.key("source"); out.string(mark.source)
        out.key("time"); out.time(mark.time)
        out.closeObject()
    }

    public func writeLimit(_ totals: AccountTotals, _ header: Header, to out: inout JSONBytes) {
        open("limit", header, to: &out)
        out.key("account"); out.string(totals.account)
        // What the position limit is judged on, so the message stands alone.
        if totals.positionLimit != nil { out.key("grossContracts"); out.int(totals.grossContracts) }
        writeLimitFields(totals, to: &out)
        out.closeObject()
    }

    /// An order (`"type":"order"`; the snapshot's "orders" are the working ones, same fields).
    public func writeOrder(_ order: OrderRecord, _ header: Header, to out: inout JSONBytes) {
        open("order", header, to: &out)
        out.key("orderId"); out.string(order.orderId)
        out.key("account"); out.string(order.account)
        out.key("instrument"); out.string(order.instrument)
        out.key("side"); out.string(static: order.side == .buy ? "buy" : "sell")
        writePrice(order.price, instrument: catalogInstrument(order.instrument), key: "price", decimalKey: "priceDecimal", to: &out)
        out.key("qty"); out.int(order.qty)
        out.key("leavesQty"); out.int(order.leavesQty)
        out.key("filledQty"); out.int(order.filledQty)
        out.key("status"); out.string(static: Self.orderStatusText(order.status))
        out.key("version"); out.int(order.version)
        out.key("time"); out.time(order.time)
        out.key("source"); out.string(order.source)
        out.closeObject()
    }

    /// The snapshot's "instruments" entries.
    public func writeInstrument(_ instrument: Instrument, to out: inout JSONBytes) {
        out.openObject()
        out.key("symbol"); out.string(instrument.symbol)
        out.key("product"); out.string(instrument.product)
        out.key("description"); out.string(instrument.description)
        out.key("tick"); out.price(instrument.tick)
        out.key("dollarsPerPoint"); out.string(String(instrument.dollarsPerPoint))
        out.key("display"); out.string(Self.displayName(instrument.display))
        out.key("dv01"); out.money(instrument.dv01)
        out.closeObject()
    }

    /// A monitor's health as the snapshot's "monitors" entries and `/healthz` show it.
    public func writeMonitor(_ status: MonitorStatus, to out: inout JSONBytes) {
        out.openObject()
        out.key("name"); out.string(status.name)
        writeMonitorFields(status, to: &out)
        out.closeObject()
    }

    // MARK: Fields

    private func writeMonitorFields(_ status: MonitorStatus, to out: inout JSONBytes) {
        out.key("state"); out.string(status.state.rawValue)
        out.key("lastError")
        if let error = status.lastError { out.string(error) } else { out.null() }
        out.key("lastSuccess"); out.time(status.lastSuccess)
        out.key("stale"); out.bool(status.state != .running)
        if let lines = status.recon {
            out.key("recon"); out.openArray()
            for line in lines { writeRecon(line, to: &out) }
            out.closeArray()
        }
    }

    /// One reconciliation line: `{"account","instrument","state","ledger":{…},"tt":{…},"difference"}`.
    public func writeRecon(_ line: ReconLine, to out: inout JSONBytes) {
        func side(_ side: ReconLine.Side) {
            out.openObject()
            out.key("net"); out.int(side.net)
            out.key("bought"); out.int(side.bought)
            out.key("sold"); out.int(side.sold)
            out.key("sod"); out.int(side.sod)
            out.closeObject()
        }
        out.openObject()
        out.key("account"); out.string(line.account)
        out.key("instrument"); out.string(line.instrument)
        out.key("state"); out.string(line.state.rawValue)
        out.key("ledger"); side(line.ledger)
        out.key("tt"); side(line.external)
        out.key("difference"); out.int(line.difference)
        out.closeObject()
    }

    private func writeLimitFields(_ totals: AccountTotals, to out: inout JSONBytes) {
        out.key("lossLimit"); out.money(totals.lossLimit)
        out.key("limitUsed"); out.money(totals.limitUsed)
        out.key("limitState"); out.string(static: Self.limitText(totals.limitState))
        // The position limit only when the account has one (gross contracts against it).
        if let limit = totals.positionLimit {
            out.key("positionLimit"); out.int(limit)
            out.key("positionState"); out.string(static: Self.limitText(totals.positionState))
        }
    }

    /// A price: the display text (the instrument's `.tt` format) and the exact decimal, both
    /// written from the units; both null without a price.
    private func writePrice(_ price: Price?, instrument: Int?, key: StaticString, decimalKey: StaticString,
                            to out: inout JSONBytes) {
        out.key(key)
        guard let price else {
            out.null()
            out.key(decimalKey); out.null()
            return
        }
        if let instrument { out.priceText(price, display: catalog.all[instrument].display) } else { out.price(price) }
        out.key(decimalKey); out.price(price)
    }

    /// The instrument's place in the catalog (not a copy: an `Instrument` holds several strings
    /// to retain and release). A desk catalog is small, so `index(of:)` scans instead of hashing.
    private func catalogInstrument(_ symbol: String) -> Int? {
        catalog.index(of: symbol)
    }

    static func displayName(_ display: PriceDisplay) -> String {
        switch display {
        case .thirtySeconds(let parts): return parts == 1 ? "32nds" : "32nds/\(parts)"
        case .decimal(let places): return "decimal/\(places)"
        }
    }

    // Raw values as static text, so the enums' rawValue Strings are never materialized.
    private static func statusText(_ status: FillStatus) -> StaticString {
        switch status {
        case .live: return "live"
        case .busted: return "busted"
        case .corrected: return "corrected"
        }
    }

    private static func orderStatusText(_ status: OrderStatus) -> StaticString {
        switch status {
        case .working: return "working"
        case .filled: return "filled"
        case .cancelled: return "cancelled"
        case .rejected: return "rejected"
        }
    }

    private static func markSourceText(_ source: MarkSource) -> StaticString {
        switch source {
        case .mark: return "mark"
        case .lastFill: return "lastFill"
        case .sod: return "sod"
        case .none: return "none"
        }
    }

    private static func limitText(_ state: LimitState) -> StaticString {
        switch state {
        case .ok: return "ok"
        case .warning: return "warning"
        case .breached: return "breached"
        }
    }
}
