import Bytes
import JSON
import Ledger

/// Reading a delta back from the JSON the writer produced (a journal row keeps its event's
/// messages as a JSON array, served again to resumes). The reader is checked against the writer
/// by round trip (WireTests): writing what it read gives the same bytes.
extension SubscriberMessage {
    /// Nil when `json` is not a delta object of this schema (then a replay must resync).
    public init?(delta json: JSONValue) {
        let reader = DeltaReader(json: json)
        guard let type = json["type"]?.stringValue else { return nil }
        let seq = json["seq"]?.intValue
        switch type {
        case "fill":
            guard let execId = reader.string("execId"), let account = reader.string("account"),
                  let instrument = reader.string("instrument"), let side = reader.string("side").flatMap(Side.init(rawValue:)),
                  let qty = json["qty"]?.intValue, let price = reader.price("priceDecimal"),
                  let status = reader.string("status").flatMap(FillStatus.init(rawValue:)) else { return nil }
            let fill = Fill(execId: execId, account: account, instrument: instrument, side: side, qty: qty, price: price,
                            time: reader.time("time") ?? 0, source: reader.string("source") ?? "", orderId: reader.string("orderId"))
            self = .fill(FillRecord(fill: fill, status: status, originalQty: json["origQty"]?.intValue,
                                    originalPrice: reader.price("origPriceDecimal")), seq: seq)
        case "position":
            guard let account = reader.string("account"), let instrument = reader.string("instrument"),
                  let markSource = reader.string("markSource").flatMap(MarkSource.init(rawValue:)) else { return nil }
            self = .position(PositionLine(account: account, instrument: instrument, sodQty: json["sodQty"]?.intValue ?? 0,
                                          bought: json["bought"]?.intValue ?? 0, sold: json["sold"]?.intValue ?? 0,
                                          net: json["net"]?.intValue ?? 0, avgPrice: reader.price("avgPriceDecimal"),
                                          mark: reader.price("markDecimal"), markSource: markSource,
                                          realized: reader.money("realized"), unrealized: reader.money("unrealized"),
                                          total: reader.money("total"), dv01: reader.money("dv01"),
                                          lastFillTime: reader.time("lastFillTime")), seq: seq)
        case "pnl" where json["scope"]?.stringValue == "desk":
            self = .deskPnL(DeskTotals(realized: reader.money("realized"), unrealized: reader.money("unrealized"),
                                       total: reader.money("total"), grossContracts: json["grossContracts"]?.intValue ?? 0,
                                       dv01: reader.money("dv01"), lossLimit: reader.string("lossLimit").flatMap { Money(decimal: $0) },
                                       limitUsed: reader.money("limitUsed"),
                                       limitState: reader.string("limitState").flatMap(LimitState.init(rawValue:)) ?? .ok), seq: seq)
        case "limit" where json["scope"]?.stringValue == "desk":
            self = .deskLimit(DeskTotals(lossLimit: reader.string("lossLimit").flatMap { Money(decimal: $0) },
                                         limitUsed: reader.money("limitUsed"),
                                         limitState: reader.string("limitState").flatMap(LimitState.init(rawValue:)) ?? .ok), seq: seq)
        case "pnl":
            guard let totals = reader.accountTotals() else { return nil }
            self = .accountPnL(totals, seq: seq)
        case "mark":
            guard let instrument = reader.string("instrument"), let price = reader.price("priceDecimal") else { return nil }
            self = .mark(MarkRecord(instrument: instrument, price: price, time: reader.time("time") ?? 0,
                                    source: reader.string("source") ?? ""), seq: seq)
        case "limit":
            guard let totals = reader.accountTotals() else { return nil }
            self = .limit(totals, seq: seq)
        case "order":
            guard let orderId = reader.string("orderId"), let account = reader.string("account"),
                  let instrument = reader.string("instrument"), let side = reader.string("side").flatMap(Side.init(rawValue:)),
                  let price = reader.price("priceDecimal"), let qty = json["qty"]?.intValue,
                  let leaves = json["leavesQty"]?.intValue,
                  let status = reader.string("status").flatMap(OrderStatus.init(rawValue:)) else { return nil }
            self = .order(OrderRecord(orderId: orderId, account: account, instrument: instrument, side: side, price: price,
                                      qty: qty, leavesQty: leaves, filledQty: json["filledQty"]?.intValue ?? 0, status: status,
                                      version: json["version"]?.intValue ?? 0, time: reader.time("time") ?? 0,
                                      source: reader.string("source") ?? ""), seq: seq)
        default:
            return nil
        }
    }
}

/// Typed field access with the writer's spellings: prices and money as exact decimal strings,
/// times as ISO 8601.
private struct DeltaReader {
    let json: JSONValue

    func string(_ key: String) -> String? { json[key]?.stringValue }
    func price(_ key: String) -> Price? { string(key).flatMap { Price(decimal: $0) } }
    func money(_ key: String) -> Money { string(key).flatMap { Money(decimal: $0) } ?? .zero }
    func time(_ key: String) -> Nanos? { string(key).flatMap(parseISO8601) }

    func accountTotals() -> AccountTotals? {
        guard let account = string("account") else { return nil }
        return AccountTotals(account: account, realized: money("realized"), unrealized: money("unrealized"),
                             total: money("total"), netContracts: json["netContracts"]?.intValue ?? 0,
                             grossContracts: json["grossContracts"]?.intValue ?? 0, dv01: money("dv01"),
                             lossLimit: string("lossLimit").flatMap { Money(decimal: $0) }, limitUsed: money("limitUsed"),
                             limitState: string("limitState").flatMap(LimitState.init(rawValue:)) ?? .ok,
                             positionLimit: json["positionLimit"]?.intValue,
                             positionState: string("positionState").flatMap(LimitState.init(rawValue:)) ?? .ok)
    }
}
