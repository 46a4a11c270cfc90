import Bytes
import JSON
import Ledger

/// The readable line format for terminal watchers (`?format=text`): one aligned line per
/// message, rendered from the same typed values as the JSON, prices in CME 32nds style, money
/// with an explicit sign.
///
///     #1043 FILL     ACC1       ZNZ6   BUY      3 @ 110-18+     live  E1
public struct TextRenderer: Sendable {
    public let catalog: InstrumentCatalog

    public init(catalog: InstrumentCatalog) { self.catalog = catalog }
    public init(encoder: MessageEncoder) { self.catalog = encoder.catalog }

    public func line(_ message: SubscriberMessage) -> String {
        switch message {
        case .fill(let record, let seq):
            let fill = record.fill
            let label = record.status == .busted ? "BUST" : record.status == .corrected ? "CORRECT" : "FILL"
            return "\(pad(number(seq), 7)) \(pad(label, 8)) \(pad(fill.account, 10)) \(pad(fill.instrument, 6)) \(pad(fill.side.rawValue.uppercased(), 4)) \(padLeft(String(fill.qty), 5)) @ \(pad(cme(fill.price, fill.instrument), 12)) \(pad(record.status.rawValue, 9)) \(fill.execId)"
        case .position(let line, let seq):
            return "\(pad(number(seq), 7)) \(pad("POS", 8)) \(pad(line.account, 10)) \(pad(line.instrument, 6)) net \(padLeft(Self.signed(line.net), 5)) avg \(pad(cme(line.avgPrice, line.instrument), 11)) mark \(pad(cme(line.mark, line.instrument), 11)) \(pad("(" + line.markSource.rawValue + ")", 10)) real \(padLeft(Self.signed(line.realized), 12)) unreal \(padLeft(Self.signed(line.unrealized), 12)) total \(padLeft(Self.signed(line.total), 12))"
        case .accountPnL(let totals, let seq):
            return pnl(scope: totals.account, seq: seq, realized: totals.realized, unrealized: totals.unrealized, total: totals.total,
                       dv01: totals.dv01) + " limit \(totals.limitState.rawValue)"
        case .deskPnL(let totals, let seq):
            return pnl(scope: "DESK", seq: seq, realized: totals.realized, unrealized: totals.unrealized, total: totals.total, dv01: totals.dv01)
        case .mark(let record, let seq):
            return "\(pad(number(seq), 7)) \(pad("MARK", 8)) \(pad(record.instrument, 10)) \(pad(cme(record.price, record.instrument), 12)) (\(record.source))"
        case .limit(let totals, let seq):
            let position = totals.positionLimit.map { " · position \(totals.positionState.rawValue) \(totals.grossContracts) of \($0) contracts" } ?? ""
            return "\(pad(number(seq), 7)) \(pad("LIMIT", 8)) \(pad(totals.account, 10)) \(totals.limitState.rawValue) used \(Self.signed(totals.limitUsed)) of \(totals.lossLimit.map { Self.dollarsAndCents($0, sign: false) } ?? "—")\(position)"
        case .deskLimit(let totals, let seq):
            return "\(pad(number(seq), 7)) \(pad("LIMIT", 8)) \(pad("DESK", 10)) \(totals.limitState.rawValue) used \(Self.signed(totals.limitUsed)) of \(totals.lossLimit.map { Self.dollarsAndCents($0, sign: false) } ?? "—")"
        case .order(let order, let seq):
            return "\(pad(number(seq), 7)) \(pad("ORDER", 8)) \(pad(order.account, 10)) \(pad(order.instrument, 6)) \(pad(order.side.rawValue.uppercased(), 4)) \(padLeft(String(order.qty), 5)) @ \(pad(cme(order.price, order.instrument), 12)) leaves \(padLeft(String(order.leavesQty), 5)) \(pad(order.status.rawValue, 9)) \(order.orderId)"
        case .status(let status):
            let error = status.lastError.map { " — \($0)" } ?? ""
            let head = "\(pad("--", 7)) \(pad("STATUS", 8)) \(pad(status.name, 10)) \(status.state.rawValue)\(error)"
            guard let lines = status.recon else { return head }
            return ([head] + lines.map(recon)).joined(separator: "\n")
        case .heartbeat(let seq, let time):
            return "\(pad(number(seq), 7)) HEARTBEAT \(isoString(time))"
        case .resumed(let since, let seq, let epoch):
            return "\(pad(number(seq), 7)) RESUMED after #\(since) (epoch \(epoch))"
        case .error(let code, let message):
            return "ERROR \(code): \(message)"
        case .pong(_, let seq):
            return "\(pad(number(seq), 7)) PONG"
        }
    }

    /// `--      RECON    ACC1       ZNZ6   BREAK  ledger net +3 (b 5 s 2 sod 0)  tt net +5 (b 7 s 2 sod 0)  diff -2`
    func recon(_ line: ReconLine) -> String {
        func side(_ side: ReconLine.Side) -> String {
            "net \(padLeft(Self.signed(side.net), 5)) (b \(side.bought) s \(side.sold) sod \(Self.signed(side.sod)))"
        }
        return "\(pad("--", 7)) \(pad("RECON", 8)) \(pad(line.account, 10)) \(pad(line.instrument, 6)) \(pad(line.state.rawValue.uppercased(), 6)) ledger \(side(line.ledger))  tt \(side(line.external))  diff \(Self.signed(line.difference))"
    }

    private func pnl(scope: String, seq: Int64?, realized: Money, unrealized: Money, total: Money, dv01: Money) -> String {
        "\(pad(number(seq), 7)) \(pad("PNL", 8)) \(pad(scope, 10)) real \(padLeft(Self.signed(realized), 12)) unreal \(padLeft(Self.signed(unrealized), 12)) total \(padLeft(Self.signed(total), 12)) dv01 \(padLeft(Self.signed(dv01), 10))"
    }

    // MARK: Pieces

    private func number(_ seq: Int64?) -> String { seq.map { "#\($0)" } ?? "--" }

    func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    /// A price CME style ("110-18+"), or a dash when there is none.
    func cme(_ price: Price?, _ instrument: String) -> String {
        guard let price else { return "—" }
        return catalog[instrument]?.format(price, style: .cme) ?? price.decimalString
    }

    /// Money as a desk reads it on a terminal: an explicit sign, thousands separators, dollars and
    /// cents (rounded half away from zero). The exact figure is in every JSON message.
    public static func signed(_ money: Money) -> String {
        dollarsAndCents(money, sign: true)
    }

    /// `1,234.56` (with `sign`: `+1,234.56`, `-1,234.56`; a value that rounds to zero is `+0.00`).
    public static func dollarsAndCents(_ money: Money, sign: Bool) -> String {
        let magnitude = money.units.magnitude   // 1e-8 dollar; the magnitude so Int64.min is fine
        let unitsPerCent: UInt64 = 1_000_000
        let cents = magnitude / unitsPerCent + (magnitude % unitsPerCent >= unitsPerCent / 2 ? 1 : 0)
        var whole = String(cents / 100)
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole.removeLast(3)
        }
        let fraction = cents % 100
        let text = whole + grouped + "." + (fraction < 10 ? "0" : "") + String(fraction)
        if money.units < 0 && cents > 0 { return "-" + text }
        return sign ? "+" + text : text
    }

    public static func signed(_ qty: Int64) -> String { qty > 0 ? "+\(qty)" : "\(qty)" }
}
