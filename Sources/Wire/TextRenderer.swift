import JSON
import Ledger

/// The readable line format for terminal watchers (`?format=text`): one aligned line per
/// message, prices in CME 32nds style, money with an explicit sign.
///
///     #1043 FILL     ACC1       ZNZ6   BUY      3 @ 110-18+     live  E1
public struct TextRenderer: Sendable {
    public let encoder: MessageEncoder

    public init(encoder: MessageEncoder) { self.encoder = encoder }

    func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    /// Re-reads a price from its exact decimal field, to print it CME style.
    func cme(_ message: JSONValue, _ field: String, instrument: String) -> String {
        guard let decimal = message[field + "Decimal"]?.stringValue, let price = Price(decimal: decimal) else { return "—" }
        return encoder.cmePrice(price, instrument: instrument)
    }

    func moneyText(_ value: JSONValue?) -> String {
        guard let text = value?.stringValue, let money = Money(decimal: text) else { return "—" }
        return MessageEncoder.signed(money)
    }

    public func line(_ message: JSONValue) -> String {
        let seq = message["seq"]?.intValue.map { "#\($0)" } ?? "--"
        let type = message["type"]?.stringValue ?? "?"
        let account = message["account"]?.stringValue ?? ""
        let instrument = message["instrument"]?.stringValue ?? ""
        switch type {
        case "fill":
            let side = (message["side"]?.stringValue ?? "").uppercased()
            let qty = message["qty"]?.intValue ?? 0
            let status = message["status"]?.stringValue ?? ""
            let label = status == "busted" ? "BUST" : status == "corrected" ? "CORRECT" : "FILL"
            return "\(pad(seq, 7)) \(pad(label, 8)) \(pad(account, 10)) \(pad(instrument, 6)) \(pad(side, 4)) \(padLeft(String(qty), 5)) @ \(pad(cme(message, "price", instrument: instrument), 12)) \(pad(status, 9)) \(message["execId"]?.stringValue ?? "")"
        case "position":
            let net = MessageEncoder.signed(message["net"]?.intValue ?? 0)
            return "\(pad(seq, 7)) \(pad("POS", 8)) \(pad(account, 10)) \(pad(instrument, 6)) net \(padLeft(net, 5)) avg \(pad(cme(message, "avgPrice", instrument: instrument), 11)) mark \(pad(cme(message, "mark", instrument: instrument), 11)) \(pad("(" + (message["markSource"]?.stringValue ?? "") + ")", 10)) real \(padLeft(moneyText(message["realized"]), 12)) unreal \(padLeft(moneyText(message["unrealized"]), 12)) total \(padLeft(moneyText(message["total"]), 12))"
        case "pnl":
            let scope = message["scope"]?.stringValue == "desk" ? "DESK" : account
            var line = "\(pad(seq, 7)) \(pad("PNL", 8)) \(pad(scope, 10)) real \(padLeft(moneyText(message["realized"]), 12)) unreal \(padLeft(moneyText(message["unrealized"]), 12)) total \(padLeft(moneyText(message["total"]), 12)) dv01 \(padLeft(moneyText(message["dv01"]), 10))"
            if let state = message["limitState"]?.stringValue { line += " limit \(state)" }
            return line
        case "mark":
            return "\(pad(seq, 7)) \(pad("MARK", 8)) \(pad(instrument, 10)) \(pad(cme(message, "price", instrument: instrument), 12)) (\(message["source"]?.stringValue ?? ""))"
        case "limit":
            return "\(pad(seq, 7)) \(pad("LIMIT", 8)) \(pad(account, 10)) \(message["limitState"]?.stringValue ?? "") used \(moneyText(message["limitUsed"])) of \(message["lossLimit"]?.stringValue ?? "—")"
        case "heartbeat":
            return "\(pad(seq, 7)) HEARTBEAT \(message["time"]?.stringValue ?? "")"
        case "status":
            let error = message["lastError"]?.stringValue.map { " — \($0)" } ?? ""
            return "\(pad("--", 7)) \(pad("STATUS", 8)) \(pad(message["monitor"]?.stringValue ?? "", 10)) \(message["state"]?.stringValue ?? "")\(error)"
        case "resumed":
            return "\(pad(seq, 7)) RESUMED after #\(message["since"]?.intValue ?? 0) (epoch \(message["epoch"]?.stringValue ?? ""))"
        case "error":
            return "ERROR \(message["code"]?.stringValue ?? ""): \(message["message"]?.stringValue ?? "")"
        case "pong":
            return "\(pad(seq, 7)) PONG"
        default:
            return message.serialized
        }
    }
}
