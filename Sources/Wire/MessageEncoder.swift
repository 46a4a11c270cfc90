import Bytes
import JSON
import Ledger

/// Turns ledger views into subscriber messages (JSON objects and text lines).
///
/// Field names follow docs/protocol.md; this is the only place that knows them, so the snapshot,
/// live deltas and `/api/*` answers can never disagree on a shape.
public struct MessageEncoder: Sendable {
    public let catalog: InstrumentCatalog

    public init(catalog: InstrumentCatalog) { self.catalog = catalog }

    // MARK: Prices, money, times

    func priceFields(_ price: Price?, instrument: String, name: String) -> [(String, JSONValue)] {
        guard let price else { return [(name, .null), (name + "Decimal", .null)] }
        let display = catalog[instrument]?.format(price, style: .tt) ?? price.decimalString
        return [(name, .string(display)), (name + "Decimal", .string(price.decimalString))]
    }

    func cmePrice(_ price: Price?, instrument: String) -> String {
        guard let price else { return "—" }
        return catalog[instrument]?.format(price, style: .cme) ?? price.decimalString
    }

    static func money(_ money: Money) -> JSONValue { .string(money.decimalString) }
    static func money(_ money: Money?) -> JSONValue { money.map { .string($0.decimalString) } ?? .null }
    static func time(_ nanos: Nanos?) -> JSONValue { nanos.map { .string(isoString($0)) } ?? .null }

    /// Money for terminals: explicit sign, exact digits, at least two decimals.
    static func signed(_ money: Money) -> String {
        var text = money.decimalString
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < 2 { text += String(repeating: "0", count: 2 - decimals) }
        } else {
            text += ".00"
        }
        return money.units >= 0 ? "+" + text : text
    }

    static func signed(_ qty: Int64) -> String { qty > 0 ? "+\(qty)" : "\(qty)" }

    // MARK: Objects

    public func fill(_ record: FillRecord, seq: Int64?) -> JSONValue {
        let f = record.fill
        var fields: [(String, JSONValue)] = [("type", .string("fill"))]
        if let seq { fields.append(("seq", .int(seq))) }
        fields += [
            ("execId", .string(f.execId)), ("account", .string(f.account)), ("instrument", .string(f.instrument)),
            ("side", .string(f.side.rawValue)), ("qty", .int(f.qty)),
        ]
        fields += priceFields(f.price, instrument: f.instrument, name: "price")
        fields += [("time", Self.time(f.time)), ("status", .string(record.status.rawValue)), ("source", .string(f.source))]
        if record.status == .corrected {
            if let q = record.originalQty { fields.append(("origQty", .int(q))) }
            if let p = record.originalPrice { fields += priceFields(p, instrument: f.instrument, name: "origPrice") }
        }
        return .object(fields)
    }

    public func position(_ line: PositionLine, seq: Int64?) -> JSONValue {
        var fields: [(String, JSONValue)] = [("type", .string("position"))]
        if let seq { fields.append(("seq", .int(seq))) }
        fields += [("account", .string(line.account)), ("instrument", .string(line.instrument)),
                   ("sodQty", .int(line.sodQty)), ("bought", .int(line.bought)), ("sold", .int(line.sold)),
                   ("net", .int(line.net))]
        fields += priceFields(line.avgPrice, instrument: line.instrument, name: "avgPrice")
        fields += priceFields(line.mark, instrument: line.instrument, name: "mark")
        fields += [("markSource", .string(line.markSource.rawValue)),
                   ("realized", Self.money(line.realized)), ("unrealized", Self.money(line.unrealized)),
                   ("total", Self.money(line.total)), ("dv01", Self.money(line.dv01)),
                   ("lastFillTime", Self.time(line.lastFillTime))]
        return .object(fields)
    }

    public func account(_ totals: AccountTotals, seq: Int64?, type: String = "pnl") -> JSONValue {
        var fields: [(String, JSONValue)] = [("type", .string(type))]
        if let seq { fields.append(("seq", .int(seq))) }
        if type == "pnl" { fields.append(("scope", .string("account"))) }
        fields += [("account", .string(totals.account)),
                   ("realized", Self.money(totals.realized)), ("unrealized", Self.money(totals.unrealized)),
                   ("total", Self.money(totals.total)), ("netContracts", .int(totals.netContracts)),
                   ("grossContracts", .int(totals.grossContracts)), ("dv01", Self.money(totals.dv01)),
                   ("lossLimit", Self.money(totals.lossLimit)), ("limitUsed", Self.money(totals.limitUsed)),
                   ("limitState", .string(totals.limitState.rawValue))]
        return .object(fields)
    }

    public func desk(_ totals: DeskTotals, seq: Int64?) -> JSONValue {
        var fields: [(String, JSONValue)] = [("type", .string("pnl"))]
        if let seq { fields.append(("seq", .int(seq))) }
        fields += [("scope", .string("desk")),
                   ("realized", Self.money(totals.realized)), ("unrealized", Self.money(totals.unrealized)),
                   ("total", Self.money(totals.total)), ("grossContracts", .int(totals.grossContracts)),
                   ("dv01", Self.money(totals.dv01))]
        return .object(fields)
    }

    public func mark(_ mark: MarkRecord, seq: Int64?) -> JSONValue {
        var fields: [(String, JSONValue)] = [("type", .string("mark"))]
        if let seq { fields.append(("seq", .int(seq))) }
        fields.append(("instrument", .string(mark.instrument)))
        fields += priceFields(mark.price, instrument: mark.instrument, name: "price")
        fields += [("source", .string(mark.source)), ("time", Self.time(mark.time))]
        return .object(fields)
    }

    public func limit(_ totals: AccountTotals, seq: Int64?) -> JSONValue {
        var fields: [(String, JSONValue)] = [("type", .string("limit"))]
        if let seq { fields.append(("seq", .int(seq))) }
        fields += [("account", .string(totals.account)), ("lossLimit", Self.money(totals.lossLimit)),
                   ("limitUsed", Self.money(totals.limitUsed)), ("limitState", .string(totals.limitState.rawValue))]
        return .object(fields)
    }

    public func instrument(_ instrument: Instrument) -> JSONValue {
        .object([("symbol", .string(instrument.symbol)), ("product", .string(instrument.product)),
                 ("description", .string(instrument.description)),
                 ("tick", .string(instrument.tick.decimalString)),
                 ("dollarsPerPoint", .string(String(instrument.dollarsPerPoint))),
                 ("display", .string(Self.displayName(instrument.display))),
                 ("dv01", Self.money(instrument.dv01))])
    }

    /// A monitor's health as the snapshot's "monitors" entries show it.
    public static func monitor(_ status: MonitorStatus) -> JSONValue {
        .object([("name", .string(status.name))] + monitorFields(status))
    }

    /// A `status` message: a monitor changed state (no seq: it is not a committed event).
    public static func statusMessage(_ status: MonitorStatus) -> JSONValue {
        .object([("type", .string("status")), ("monitor", .string(status.name))] + monitorFields(status))
    }

    private static func monitorFields(_ status: MonitorStatus) -> [(String, JSONValue)] {
        [("state", .string(status.state.rawValue)),
         ("lastError", status.lastError.map { .string($0) } ?? .null),
         ("lastSuccess", status.lastSuccess.map { .string(isoString($0)) } ?? .null),
         ("stale", .bool(status.state != .running))]
    }

    /// The `status` message for every subscriber of the status channel, in both formats.
    public func statusMessage(_ status: MonitorStatus) -> OutboundMessage {
        let json = Self.statusMessage(status)
        return OutboundMessage(channel: .status, account: nil, instrument: nil, json: json.serialized,
                               text: TextRenderer(encoder: self).line(json))
    }

    static func displayName(_ display: PriceDisplay) -> String {
        switch display {
        case .thirtySeconds(let parts): return parts == 1 ? "32nds" : "32nds/\(parts)"
        case .decimal(let places): return "decimal/\(places)"
        }
    }

    // MARK: Deltas

    /// The messages one committed event caused, encoded once for both formats.
    public func messages(for deltas: [LedgerDelta], seq: Int64) -> [OutboundMessage] {
        let renderer = TextRenderer(encoder: self)
        return deltas.map { delta in
            let encoded = encode(delta, seq: seq)
            return OutboundMessage(channel: encoded.channel, account: encoded.account, instrument: encoded.instrument,
                                   jsonBytes: encoded.json, renderer: renderer,
                                   makeValue: { [self] in route(delta, seq: seq).json })
        }
    }

    public struct Routed {
        public var channel: Channel
        public var account: String?
        public var instrument: String?
        public var json: JSONValue
    }

    public func route(_ delta: LedgerDelta, seq: Int64) -> Routed {
        switch delta {
        case .fill(let record):
            return Routed(channel: .fills, account: record.fill.account, instrument: record.fill.instrument, json: fill(record, seq: seq))
        case .position(let line):
            return Routed(channel: .positions, account: line.account, instrument: line.instrument, json: position(line, seq: seq))
        case .account(let totals):
            return Routed(channel: .pnl, account: totals.account, instrument: nil, json: account(totals, seq: seq))
        case .desk(let totals):
            return Routed(channel: .pnl, account: nil, instrument: nil, json: desk(totals, seq: seq))
        case .mark(let record):
            return Routed(channel: .marks, account: nil, instrument: record.instrument, json: mark(record, seq: seq))
        case .limit(let totals):
            return Routed(channel: .risk, account: totals.account, instrument: nil, json: limit(totals, seq: seq))
        }
    }

    /// Channel and routing keys of a journaled message (resume path).
    public static func routing(of message: JSONValue) -> (Channel, String?, String?)? {
        guard let type = message["type"]?.stringValue else { return nil }
        let account = message["account"]?.stringValue
        let instrument = message["instrument"]?.stringValue
        switch type {
        case "fill": return (.fills, account, instrument)
        case "position": return (.positions, account, instrument)
        case "pnl": return (.pnl, account, nil)
        case "mark": return (.marks, nil, instrument)
        case "limit": return (.risk, account, nil)
        default: return nil
        }
    }
}
