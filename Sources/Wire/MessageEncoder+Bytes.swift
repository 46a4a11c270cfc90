import JSON
import Ledger

/// One delta encoded for the wire: routing keys and the JSON bytes, no `JSONValue` tree.
public struct EncodedDelta: Sendable {
    public var channel: Channel
    public var account: String?
    public var instrument: String?
    /// Byte-for-byte `route(delta, seq:).json.serialized`.
    public var json: [UInt8]
}

/// The byte-writing twins of the `JSONValue` builders in DeltaEncoding.swift: same keys, same
/// order, same values, written straight into a `JSONBytes`. The ingest thread encodes every
/// delta of every fill, so this path builds no tree and appends no `String`s; the tree builders
/// stay for the text rendering and the cold paths.
extension MessageEncoder {
    /// The message one delta causes, for the JSON wire format and the journal.
    public func encode(_ delta: LedgerDelta, seq: Int64) -> EncodedDelta {
        var out = JSONBytes(reservingCapacity: 320)
        switch delta {
        case .fill(let record):
            appendFill(record, seq: seq, to: &out)
            return EncodedDelta(channel: .fills, account: record.fill.account, instrument: record.fill.instrument, json: out.bytes)
        case .position(let line):
            appendPosition(line, seq: seq, to: &out)
            return EncodedDelta(channel: .positions, account: line.account, instrument: line.instrument, json: out.bytes)
        case .account(let totals):
            appendAccount(totals, seq: seq, to: &out)
            return EncodedDelta(channel: .pnl, account: totals.account, instrument: nil, json: out.bytes)
        case .desk(let totals):
            appendDesk(totals, seq: seq, to: &out)
            return EncodedDelta(channel: .pnl, account: nil, instrument: nil, json: out.bytes)
        case .mark(let record):
            appendMark(record, seq: seq, to: &out)
            return EncodedDelta(channel: .marks, account: nil, instrument: record.instrument, json: out.bytes)
        case .limit(let totals):
            appendLimit(totals, seq: seq, to: &out)
            return EncodedDelta(channel: .risk, account: totals.account, instrument: nil, json: out.bytes)
        }
    }

    /// Every delta of one committed event, in order.
    public func encode(_ deltas: [LedgerDelta], seq: Int64) -> [EncodedDelta] {
        deltas.map { encode($0, seq: seq) }
    }

    // MARK: Delta objects (with "type" and "seq"), as `fill(_:seq:)`, `position(_:seq:)` …

    /// A fill object; the snapshot's "fills" use it as is (with the fill's own seq, or none).
    public func appendFill(_ record: FillRecord, seq: Int64?, to out: inout JSONBytes) {
        let fill = record.fill
        out.openObject()
        writeHeader("fill", seq: seq, to: &out)
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
        if record.status == .corrected {
            if let qty = record.originalQty { out.key("origQty"); out.int(qty) }
            if let price = record.originalPrice {
                writePrice(price, instrument: instrument, key: "origPrice", decimalKey: "origPriceDecimal", to: &out)
            }
        }
        out.closeObject()
    }

    public func appendPosition(_ line: PositionLine, seq: Int64?, to out: inout JSONBytes) {
        out.openObject()
        writeHeader("position", seq: seq, to: &out)
        writePositionFields(line, to: &out)
        out.closeObject()
    }

    /// An account P&L delta (`"type":"pnl","scope":"account"`).
    public func appendAccount(_ totals: AccountTotals, seq: Int64?, to out: inout JSONBytes) {
        out.openObject()
        writeHeader("pnl", seq: seq, to: &out)
        out.key("scope"); out.string(static: "account")
        writeAccountFields(totals, to: &out)
        out.closeObject()
    }

    /// The desk P&L delta (`"type":"pnl","scope":"desk"`).
    public func appendDesk(_ totals: DeskTotals, seq: Int64?, to out: inout JSONBytes) {
        out.openObject()
        writeHeader("pnl", seq: seq, to: &out)
        out.key("scope"); out.string(static: "desk")
        writeDeskFields(totals, to: &out)
        out.closeObject()
    }

    public func appendMark(_ mark: MarkRecord, seq: Int64?, to out: inout JSONBytes) {
        out.openObject()
        writeHeader("mark", seq: seq, to: &out)
        writeMarkFields(mark, to: &out)
        out.closeObject()
    }

    public func appendLimit(_ totals: AccountTotals, seq: Int64?, to out: inout JSONBytes) {
        out.openObject()
        writeHeader("limit", seq: seq, to: &out)
        out.key("account"); out.string(totals.account)
        out.key("lossLimit"); out.money(totals.lossLimit)
        out.key("limitUsed"); out.money(totals.limitUsed)
        out.key("limitState"); out.string(static: Self.limitText(totals.limitState))
        out.closeObject()
    }

    /// The snapshot's "instruments" entries, as `instrument(_:)`.
    public func appendInstrument(_ instrument: Instrument, to out: inout JSONBytes) {
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

    // MARK: Snapshot entries (no "type", "seq" or "scope": what ReadContext.stripType leaves)

    public func appendSnapshotPosition(_ line: PositionLine, to out: inout JSONBytes) {
        out.openObject()
        writePositionFields(line, to: &out)
        out.closeObject()
    }

    public func appendSnapshotAccount(_ totals: AccountTotals, to out: inout JSONBytes) {
        out.openObject()
        writeAccountFields(totals, to: &out)
        out.closeObject()
    }

    public func appendSnapshotDesk(_ totals: DeskTotals, to out: inout JSONBytes) {
        out.openObject()
        writeDeskFields(totals, to: &out)
        out.closeObject()
    }

    public func appendSnapshotMark(_ mark: MarkRecord, to out: inout JSONBytes) {
        out.openObject()
        writeMarkFields(mark, to: &out)
        out.closeObject()
    }

    // MARK: Fields

    private func writeHeader(_ type: StaticString, seq: Int64?, to out: inout JSONBytes) {
        out.key("type"); out.string(static: type)
        if let seq { out.key("seq"); out.int(seq) }
    }

    private func writePositionFields(_ line: PositionLine, to out: inout JSONBytes) {
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
    }

    private func writeAccountFields(_ totals: AccountTotals, to out: inout JSONBytes) {
        out.key("account"); out.string(totals.account)
        out.key("realized"); out.money(totals.realized)
        out.key("unrealized"); out.money(totals.unrealized)
        out.key("total"); out.money(totals.total)
        out.key("netContracts"); out.int(totals.netContracts)
        out.key("grossContracts"); out.int(totals.grossContracts)
        out.key("dv01"); out.money(totals.dv01)
        out.key("lossLimit"); out.money(totals.lossLimit)
        out.key("limitUsed"); out.money(totals.limitUsed)
        out.key("limitState"); out.string(static: Self.limitText(totals.limitState))
    }

    private func writeDeskFields(_ totals: DeskTotals, to out: inout JSONBytes) {
        out.key("realized"); out.money(totals.realized)
        out.key("unrealized"); out.money(totals.unrealized)
        out.key("total"); out.money(totals.total)
        out.key("grossContracts"); out.int(totals.grossContracts)
        out.key("dv01"); out.money(totals.dv01)
    }

    private func writeMarkFields(_ mark: MarkRecord, to out: inout JSONBytes) {
        out.key("instrument"); out.string(mark.instrument)
        writePrice(mark.price, instrument: catalogInstrument(mark.instrument), key: "price", decimalKey: "priceDecimal", to: &out)
        out.key("source"); out.string(mark.source)
        out.key("time"); out.time(mark.time)
    }

    /// `priceFields`: the display text (one `String` from the instrument's formatter) and the
    /// exact decimal written from the units; both null without a price.
    private func writePrice(_ price: Price?, instrument: Int?, key: StaticString, decimalKey: StaticString,
                            to out: inout JSONBytes) {
        out.key(key)
        guard let price else {
            out.null()
            out.key(decimalKey); out.null()
            return
        }
        if let instrument { out.string(catalog.all[instrument].format(price, style: .tt)) } else { out.price(price) }
        out.key(decimalKey); out.price(price)
    }

    /// The instrument's place in the catalog (not a copy: an `Instrument` holds several strings
    /// to retain and release). A desk catalog is small, so `index(of:)` scans instead of hashing.
    private func catalogInstrument(_ symbol: String) -> Int? {
        catalog.index(of: symbol)
    }

    // Raw values as static text, so the enums' rawValue Strings are never materialized.
    private static func statusText(_ status: FillStatus) -> StaticString {
        switch status {
        case .live: return "live"
        case .busted: return "busted"
        case .corrected: return "corrected"
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
