import Bytes
import JSON
import Journal
import Ledger
import Wire

/// A producer message that failed validation: answered with its code, audited, never stored.
struct Rejection: Error {
    var code: String
    var message: String
}

/// Turns producer messages into ledger events (prices parsed by the instrument's own rules,
/// receipt time filled in) and committed ledger effects into journal rows.
struct MessageTranslation {
    let catalog: InstrumentCatalog

    func instrument(_ symbol: String) throws(Rejection) -> Instrument {
        guard let instrument = catalog[symbol] else {
            throw Rejection(code: "unknown_instrument", message: "unknown instrument '\(symbol)'")
        }
        return instrument
    }

    func price(_ text: String, _ instrument: Instrument) throws(Rejection) -> Price {
        do {
            return try instrument.parsePrice(text)
        } catch {
            let ledgerError = LedgerError(error)
            throw Rejection(code: ledgerError.code, message: "\(instrument.symbol): \(ledgerError.message)")
        }
    }

    func time(_ text: String?, receivedAt now: Nanos) throws(Rejection) -> Nanos {
        guard let text else { return now }
        guard let nanos = parseISO8601(text) else {
            throw Rejection(code: "invalid_time", message: "time '\(text)' is not ISO 8601 UTC like 2026-11-24T14:30:00.123Z")
        }
        return nanos
    }

    /// `pendingFills` (execId → instrument) are fills of the same request not yet in the ledger,
    /// so a request may correct a fill it adds itself.
    /// `pendingOrders` (orderId → (instrument, version)) are orders of the same request not yet
    /// in the ledger, so a request may replace an order it places itself.
    func event(for message: ProducerMessage, source: String, now: Nanos, ledger: Ledger,
               pendingFills: [String: String] = [:],
               pendingOrders: [String: (instrument: String, version: Int64)] = [:]) throws(Rejection) -> LedgerEvent {
        switch message {
        case .fill(let execId, let account, let symbol, let side, let qty, let priceText, let timeText, let orderId):
            let instrument = try instrument(symbol)
            return .fill(Fill(execId: execId, account: account, instrument: symbol, side: side == "buy" ? .buy : .sell,
                              qty: qty, price: try price(priceText, instrument), time: try time(timeText, receivedAt: now),
                              source: source, orderId: orderId))
        case .order(let order):
            let known = pendingOrders[order.orderId] ?? ledger.order(order.orderId).map { ($0.instrument, $0.version) }
            var parsed: Price?
            if let priceText = order.price {
                // A new order names its instrument; a replace prices on the order's own.
                guard let symbol = order.action == .new ? order.instrument : known?.0 else {
                    throw Rejection(code: "unknown_order", message: "no order with orderId '\(order.orderId)'")
                }
                parsed = try price(priceText, try instrument(symbol))
            } else if order.action == .new, let symbol = order.instrument {
                _ = try instrument(symbol)
            }
            return .order(OrderEvent(action: order.action, orderId: order.orderId,
                                     version: Self.version(of: order, current: known?.1),
                                     account: order.account, instrument: order.instrument,
                                     side: order.side.flatMap(Side.init(rawValue:)), qty: order.qty, price: parsed,
                                     time: try time(order.time, receivedAt: now), source: source))
        case .bust(let execId):
            return .bust(execId: execId, time: now)
        case .correct(let execId, let qty, let priceText):
            guard let symbol = ledger.fill(execId: execId)?.fill.instrument ?? pendingFills[execId] else {
                throw Rejection(code: "unknown_fill", message: "no fill with execId '\(execId)' to correct")
            }
            let corrected: Price?
            if let priceText { corrected = try price(priceText, try instrument(symbol)) } else { corrected = nil }
            return .correct(execId: execId, qty: qty, price: corrected, time: now)
        case .mark(let symbol, let priceText, let timeText):
            let instrument = try instrument(symbol)
            return .mark(instrument: symbol, price: try price(priceText, instrument), time: try time(timeText, receivedAt: now),
                         source: source)
        case .sod(let account, let symbol, let qty, let priceText):
            let instrument = try instrument(symbol)
            return .sod(account: account, instrument: symbol, qty: qty, price: try price(priceText, instrument), time: now)
        }
    }

    /// The version an order message stands for: its own, else 1 for a new order and the
    /// order's current version + 1 for the other actions.
    static func version(of order: OrderMessage, current: Int64?) -> Int64 {
        if let version = order.version { return version }
        if order.action == .new { return 1 }
        return (current ?? 0) + 1
    }

    /// The journal row for an applied event; `deltas` are its deltas as stored for resumes.
    /// `fillSeq` is the seq that stored the fill a bust or correction names (`IngestPipeline.seq(ofExecId:in:)`).
    func journalEvent(for event: LedgerEvent, ledgerAfter ledger: Ledger, deltas: StoredDeltas, source: String,
                      fillSeq: Int64? = nil) -> NewEvent {
        let payload = EventCodec.encode(event)
        switch event {
        case .fill(let f):
            let row = FillRow(execId: f.execId, account: f.account, instrument: f.instrument, side: f.side.rawValue,
                              qty: f.qty, price: display(f.price, f.instrument), priceUnits: f.price.units,
                              time: f.time, source: f.source)
            return NewEvent(kind: "fill", account: f.account, instrument: f.instrument, execId: f.execId, time: f.time,
                            source: source, payload: payload, deltas: deltas, fill: row)
        case .bust(let execId, let time):
            let record = ledger.fill(execId: execId)
            return NewEvent(kind: "bust", account: record?.fill.account, instrument: record?.fill.instrument, execId: execId,
                            time: time, source: source, payload: payload, deltas: deltas,
                            fillStatus: FillStatusUpdate(execId: execId, status: "busted", fillSeq: fillSeq))
        case .correct(let execId, let qty, let price, let time):
            let record = ledger.fill(execId: execId)
            let instrument = record?.fill.instrument ?? ""
            return NewEvent(kind: "correct", account: record?.fill.account, instrument: instrument, execId: execId,
                            time: time, source: source, payload: payload, deltas: deltas,
                            fillStatus: FillStatusUpdate(execId: execId, status: "corrected", qty: qty,
                                                         price: price.map { display($0, instrument) }, priceUnits: price?.units,
                                                         fillSeq: fillSeq))
        case .mark(let instrument, let price, let time, _):
            return NewEvent(kind: "mark", instrument: instrument, time: time, source: source, payload: payload, deltas: deltas,
                            mark: MarkRow(instrument: instrument, price: display(price, instrument), priceUnits: price.units, time: time))
        case .sod(let account, let instrument, let qty, let price, let time):
            return NewEvent(kind: "sod", account: account, instrument: instrument, time: time, source: source,
                            payload: payload, deltas: deltas,
                            sod: SodRow(account: account, instrument: instrument, qty: qty, price: display(price, instrument),
                                        priceUnits: price.units))
        case .dayRoll(let time):
            return NewEvent(kind: "dayroll", time: time, source: source, payload: payload, deltas: deltas)
        case .order(let order):
            let record = ledger.order(order.orderId)
            return NewEvent(kind: "order", account: record?.account, instrument: record?.instrument, time: order.time,
                            source: source, payload: payload, deltas: deltas,
                            orderVersion: OrderVersion(orderId: order.orderId, version: order.version))
        }
    }

    /// `Instrument.format(price, style: .tt)` of the instrument, else the exact decimal: the
    /// price text of the fill, mark and SOD rows. Spelled by the subscriber writer's
    /// `priceText` (held to `format` by `JSONBytesTests`) rather than by `format`, whose
    /// interpolated `String`s cost ~1,500 instructions on every fill's journal row.
    func display(_ price: Price, _ symbol: String) -> String {
        var text = JSONBytes(reservingCapacity: 40)
        if let instrument = catalog[symbol] { text.priceText(price, display: instrument.display) } else { text.price(price) }
        return text.stringContents
    }
}
