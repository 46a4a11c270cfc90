import JSON
import Ledger

/// The canonical journal payload of a ledger event: what recovery replays.
///
/// Prices are stored as exact decimals and times as integer nanoseconds, so replay never depends
/// on display formats or on when it runs.
enum EventCodec {
    /// Written straight to bytes (it runs once per event on the ingest thread); `decode` reads
    /// it back with the shared parser. Prices are quoted exact decimals, times integer nanos.
    static func encode(_ event: LedgerEvent) -> String {
        var out = JSONBytes(reservingCapacity: 256)
        out.openObject()
        switch event {
        case .fill(let f):
            out.key("type"); out.string(static: "fill")
            out.key("execId"); out.string(f.execId)
            out.key("account"); out.string(f.account)
            out.key("instrument"); out.string(f.instrument)
            out.key("side"); out.string(f.side.rawValue)
            out.key("qty"); out.int(f.qty)
            out.key("price"); out.price(f.price)
            out.key("time"); out.int(f.time)
            out.key("source"); out.string(f.source)
            if let orderId = f.orderId { out.key("orderId"); out.string(orderId) }
        case .bust(let execId, let time):
            out.key("type"); out.string(static: "bust")
            out.key("execId"); out.string(execId)
            out.key("time"); out.int(time)
        case .correct(let execId, let qty, let price, let time):
            out.key("type"); out.string(static: "correct")
            out.key("execId"); out.string(execId)
            out.key("qty"); if let qty { out.int(qty) } else { out.null() }
            out.key("price"); if let price { out.price(price) } else { out.null() }
            out.key("time"); out.int(time)
        case .mark(let instrument, let price, let time, let source):
            out.key("type"); out.string(static: "mark")
            out.key("instrument"); out.string(instrument)
            out.key("price"); out.price(price)
            out.key("time"); out.int(time)
            out.key("source"); out.string(source)
        case .sod(let account, let instrument, let qty, let price, let time):
            out.key("type"); out.string(static: "sod")
            out.key("account"); out.string(account)
            out.key("instrument"); out.string(instrument)
            out.key("qty"); out.int(qty)
            out.key("price"); out.price(price)
            out.key("time"); out.int(time)
        case .dayRoll(let time):
            out.key("type"); out.string(static: "dayroll")
            out.key("time"); out.int(time)
        case .order(let o):
            out.key("type"); out.string(static: "order")
            out.key("action"); out.string(o.action.rawValue)
            out.key("orderId"); out.string(o.orderId)
            out.key("version"); out.int(o.version)
            if let account = o.account { out.key("account"); out.string(account) }
            if let instrument = o.instrument { out.key("instrument"); out.string(instrument) }
            if let side = o.side { out.key("side"); out.string(side.rawValue) }
            if let qty = o.qty { out.key("qty"); out.int(qty) }
            if let price = o.price { out.key("price"); out.price(price) }
            out.key("time"); out.int(o.time)
            out.key("source"); out.string(o.source)
        }
        out.closeObject()
        return String(decoding: out.bytes, as: UTF8.self)
    }

    struct DecodeError: Error, CustomStringConvertible {
        var description: String
    }

    static func decode(_ payload: String) throws(DecodeError) -> LedgerEvent {
        let value: JSONValue
        do { value = try JSONValue.parse(payload) } catch { throw DecodeError(description: "unreadable payload: \(error.message)") }
        func string(_ key: String) throws(DecodeError) -> String {
            guard let s = value[key]?.stringValue else { throw DecodeError(description: "payload lacks '\(key)'") }
            return s
        }
        func int(_ key: String) throws(DecodeError) -> Int64 {
            guard let i = value[key]?.intValue else { throw DecodeError(description: "payload lacks '\(key)'") }
            return i
        }
        func price(_ key: String) throws(DecodeError) -> Price {
            guard let p = Price(decimal: try string(key)) else { throw DecodeError(description: "bad price in '\(key)'") }
            return p
        }
        switch try string("type") {
        case "fill":
            guard let side = Side(rawValue: try string("side")) else { throw DecodeError(description: "bad side") }
            return .fill(Fill(execId: try string("execId"), account: try string("account"), instrument: try string("instrument"),
                              side: side, qty: try int("qty"), price: try price("price"), time: try int("time"),
                              source: try string("source"), orderId: value["orderId"]?.stringValue))
        case "bust":
            return .bust(execId: try string("execId"), time: try int("time"))
        case "correct":
            let qty = value["qty"]?.intValue
            let correctedPrice = value["price"]?.stringValue.flatMap { Price(decimal: $0) }
            return .correct(execId: try string("execId"), qty: qty, price: correctedPrice, time: try int("time"))
        case "mark":
            return .mark(instrument: try string("instrument"), price: try price("price"), time: try int("time"),
                         source: try string("source"))
        case "sod":
            return .sod(account: try string("account"), instrument: try string("instrument"), qty: try int("qty"),
                        price: try price("price"), time: try int("time"))
        case "dayroll":
            return .dayRoll(time: try int("time"))
        case "order":
            guard let action = OrderEvent.Action(rawValue: try string("action")) else { throw DecodeError(description: "bad order action") }
            var side: Side?
            if let text = value["side"]?.stringValue {
                guard let parsed = Side(rawValue: text) else { throw DecodeError(description: "bad side") }
                side = parsed
            }
            return .order(OrderEvent(action: action, orderId: try string("orderId"), version: try int("version"),
                                     account: value["account"]?.stringValue, instrument: value["instrument"]?.stringValue,
                                     side: side, qty: value["qty"]?.intValue,
                                     price: value["price"] == nil ? nil : try price("price"),
                                     time: try int("time"), source: try string("source")))
        case let other:
            throw DecodeError(description: "unknown event type '\(other)'")
        }
    }
}
