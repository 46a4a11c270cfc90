import Hub
import Ledger

/// The canonical journal payload of a ledger event: what recovery replays.
///
/// Prices are stored as exact decimals and times as integer nanoseconds, so replay never depends
/// on display formats or on when it runs.
enum EventCodec {
    static func encode(_ event: LedgerEvent) -> String {
        let fields: [(String, JSONValue)]
        switch event {
        case .fill(let f):
            fields = [("type", .string("fill")), ("execId", .string(f.execId)), ("account", .string(f.account)),
                      ("instrument", .string(f.instrument)), ("side", .string(f.side.rawValue)), ("qty", .int(f.qty)),
                      ("price", .string(f.price.decimalString)), ("time", .int(f.time)), ("source", .string(f.source))]
        case .bust(let execId, let time):
            fields = [("type", .string("bust")), ("execId", .string(execId)), ("time", .int(time))]
        case .correct(let execId, let qty, let price, let time):
            fields = [("type", .string("correct")), ("execId", .string(execId)),
                      ("qty", qty.map { .int($0) } ?? .null), ("price", price.map { .string($0.decimalString) } ?? .null),
                      ("time", .int(time))]
        case .mark(let instrument, let price, let time, let source):
            fields = [("type", .string("mark")), ("instrument", .string(instrument)), ("price", .string(price.decimalString)),
                      ("time", .int(time)), ("source", .string(source))]
        case .sod(let account, let instrument, let qty, let price, let time):
            fields = [("type", .string("sod")), ("account", .string(account)), ("instrument", .string(instrument)),
                      ("qty", .int(qty)), ("price", .string(price.decimalString)), ("time", .int(time))]
        case .dayRoll(let time):
            fields = [("type", .string("dayroll")), ("time", .int(time))]
        }
        return JSONValue.object(fields).serialized
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
                              source: try string("source")))
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
        case let other:
            throw DecodeError(description: "unknown event type '\(other)'")
        }
    }
}
