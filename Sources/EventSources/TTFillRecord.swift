import Bytes
import JSON
import Ledger
import Wire

/// One TT ledger fill, mapped to a producer message. Prices and quantities are read from the
/// JSON number's text (Hub's `JSONValue` keeps it exact), never through `Double`.
struct TTFillRecord: Equatable {
    /// TT's ledger time (`timeStamp`, ns): what the cursor and paging follow.
    var timeStamp: Int64
    var message: ProducerMessage
    /// The record's own unique id (a bust's or correction's message names the fill it changes).
    var key: String
}

/// A reply's fills, plus the reasons for fills that could not be mapped (these still move the
/// cursor, and are reported, so one odd fill cannot wedge the poller).
struct TTFillPage {
    var fills: [TTFillRecord] = []
    var skipped: [String] = []
    /// Highest `timeStamp` seen on the page, mapped or not.
    var lastTimeStamp: Int64?
}

enum TTFillMapping {
    /// Parses a `GET /ttledger/{env}/fills` body: `{"fills":[…]}` (or a bare array).
    static func page(from body: String, config: TTConfig, catalogSymbols: [String: String]) throws(TTError) -> TTFillPage {
        let json: JSONValue
        do { json = try JSONValue.parse(body) } catch { throw .malformedReply("fills reply: \(error.message) at byte \(error.offset)") }
        let items: [JSONValue]
        if case .array(let list) = json { items = list }
        else if case .array(let list)? = json["fills"] { items = list }
        else if case .object = json, json["fills"] == nil || json["fills"] == .null { items = [] }
        else { throw .malformedReply("fills reply has no 'fills' array") }

        var page = TTFillPage()
        for item in items {
            guard case .object = item else { page.skipped.append("a fill that is not an object"); continue }
            guard let timeStamp = integer(item["timeStamp"]) else {
                page.skipped.append("a fill without an integer timeStamp"); continue
            }
            page.lastTimeStamp = max(page.lastTimeStamp ?? timeStamp, timeStamp)
            switch message(from: item, timeStamp: timeStamp, config: config, catalogSymbols: catalogSymbols) {
            case .success(let message):
                let key = text(item["uniqueExecId"]) ?? text(item["execId"]) ?? message.ref
                page.fills.append(TTFillRecord(timeStamp: timeStamp, message: message, key: key))
            case .failure(let problem): page.skipped.append(problem.reason)
            }
        }
        return page
    }

    struct Problem: Error { var reason: String }

    /// The execution a trade cancel or correction refers to: its unique id as the poller stored it.
    /// Not confirmed against a published TT fills reply: `refUniqueExecId` is this poller's guess
    /// at TT's name, `execRefId` is FIX's ExecRefID (tag 19), which names the original ExecID.
    static func referencedExecId(_ fill: JSONValue) -> String? {
        text(fill["refUniqueExecId"]) ?? text(fill["execRefId"]) ?? text(fill["execRefID"])
    }

    /// What a ledger record is: a trade, or a trade cancel (bust) or correction of an earlier one.
    enum Kind: Equatable { case trade, tradeCancel, tradeCorrect }

    /// TT's ledger records carry `executionType` in TT's own numbering (its order `enums.proto`,
    /// published in TT's Core SDK samples: 14 Trade, 15 TradeCorrect, 16 TradeCancel; TT's
    /// `/ttledger/{env}/orders` replies use that field and numbering); FIX's `execType` letters
    /// ("F", "G", "H") are read too. Anything else is a trade.
    static func kind(of fill: JSONValue) -> Kind {
        switch (text(fill["executionType"]), text(fill["execType"])) {
        case ("16", _), (_, "H"): return .tradeCancel
        case ("15", _), (_, "G"): return .tradeCorrect
        default: return .trade
        }
    }

    /// A trade becomes a `fill` naming its `orderId`; a trade cancel a `bust` and a trade
    /// correction a `correct` of the execution it refers to (`refUniqueExecId`, else `execRefId`),
    /// the correction with the record's qty and price.
    static func message(from fill: JSONValue, timeStamp: Int64, config: TTConfig,
                        catalogSymbols: [String: String]) -> Result<ProducerMessage, Problem> {
        guard let execId = text(fill["uniqueExecId"]) ?? text(fill["execId"]) else {
            return .failure(Problem(reason: "fill at timeStamp \(timeStamp) has no uniqueExecId or execId"))
        }
        let kind = kind(of: fill)
        if kind == .tradeCancel {
            guard let reference = referencedExecId(fill) else {
                return .failure(Problem(reason: "trade cancel \(execId) names no execution (refUniqueExecId or execRefId)"))
            }
            return .success(.bust(execId: reference))
        }
        guard let accountId = text(fill["accountId"]) else { return .failure(Problem(reason: "fill \(execId) has no accountId")) }
        guard let instrumentId = text(fill["instrumentId"]) else { return .failure(Problem(reason: "fill \(execId) has no instrumentId")) }
        let side: String
        switch text(fill["side"]) {
        case "1": side = "buy"
        case "2": side = "sell"
        case let other: return .failure(Problem(reason: "fill \(execId) has side \(other ?? "missing") (expected \"1\" buy or \"2\" sell)"))
        }
        guard let qty = integer(fill["lastQty"]), qty > 0 else {
            return .failure(Problem(reason: "fill \(execId) has no positive integer lastQty"))
        }
        let mapping = config.instruments[instrumentId]
        guard let pxText = text(fill["lastPx"]), let px = ScaledDecimal(pxText) else {
            return .failure(Problem(reason: "fill \(execId) has no numeric lastPx"))
        }
        guard let multiplier = ScaledDecimal(mapping?.priceMultiplier ?? "1"), let price = px.multiplied(by: multiplier) else {
            return .failure(Problem(reason: "fill \(execId): lastPx \(pxText) cannot be scaled exactly"))
        }
        if kind == .tradeCorrect {
            guard let reference = referencedExecId(fill) else {
                return .failure(Problem(reason: "trade correction \(execId) names no execution (refUniqueExecId or execRefId)"))
            }
            return .success(.correct(execId: reference, qty: qty, price: price.description))
        }
        let transact = integer(fill["transactTime"]) ?? timeStamp
        return .success(.fill(execId: execId,
                              account: config.accounts[accountId] ?? accountId,
                              instrument: mapping?.symbol ?? catalogSymbols[instrumentId] ?? instrumentId,
                              side: side, qty: qty, price: price.description,
                              time: isoString(transact), orderId: text(fill["orderId"])))
    }

    /// A string, or a number's exact text (TT sends ids and sides either way).
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)? where !text.isEmpty: return text
        case .int(let number)?: return String(number)
        case .number(let text)?: return text
        default: return nil
        }
    }

    /// An integer given as a JSON number or a numeric string ("3", "3.0", "1764000000000000000").
    static func integer(_ value: JSONValue?) -> Int64? {
        if case .string(let text)? = value { return ScaledDecimal(text)?.integerValue }
        return value?.wholeNumber
    }
}
