import JSON
import Ledger

/// Why a producer message could not even be read: answered with `ref: null` when no ref is known.
public struct MessageFormatError: Error, Sendable, Equatable {
    public var code: String
    public var message: String
    public var ref: String?
}

extension ProducerMessage {
    /// Parses one producer message from JSON text (one `/feed` frame, one line of a feed file).
    ///
    /// A well-formed fill or mark of scalars (nearly every message) is read by `readFlat`
    /// without a `JSONValue` tree; anything else, every message with an error included, goes
    /// through the tree, so errors and what is refused are exactly the general path's.
    public static func parse(json text: String) throws(MessageFormatError) -> ProducerMessage {
        if let object = FlatJSONObject(text), let message = readFlat(object) { return message }
        return try parseTree(json: text)
    }

    /// The general path of `parse(json:)`: the JSON tree, then the fields.
    static func parseTree(json text: String) throws(MessageFormatError) -> ProducerMessage {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch {
            throw MessageFormatError(code: "malformed_json", message: "message is not valid JSON (\(error.message) at byte \(error.offset))", ref: nil)
        }
        return try parse(value)
    }

    /// Parses one producer message from a decoded JSON value (an element of a POST array).
    public static func parse(_ value: JSONValue) throws(MessageFormatError) -> ProducerMessage {
        guard case .object = value else {
            throw MessageFormatError(code: "malformed_json", message: "message must be a JSON object", ref: nil)
        }
        var reader = FieldReader(value: value)
        guard let type = value["type"]?.stringValue else {
            throw MessageFormatError(code: "missing_field", message: "field 'type' is required (fill, bust, correct, mark, sod, order)", ref: nil)
        }
        switch type {
        case "fill":
            reader.ref = value["execId"]?.stringValue
            let execId = try reader.string("execId")
            let side = try reader.string("side")
            guard side == "buy" || side == "sell" else {
                throw reader.failure("invalid_side", "side must be \"buy\" or \"sell\", got \"\(side)\"")
            }
            return .fill(execId: execId, account: try reader.string("account"), instrument: try reader.string("instrument"),
                         side: side, qty: try reader.positiveQuantity("qty"), price: try reader.price("price"),
                         time: try reader.optionalString("time"), orderId: try reader.optionalNonEmpty("orderId"))
        case "bust":
            reader.ref = value["execId"]?.stringValue
            return .bust(execId: try reader.string("execId"))
        case "correct":
            reader.ref = value["execId"]?.stringValue
            let execId = try reader.string("execId")
            let qty: Int64? = reader.isAbsent("qty") ? nil : try reader.positiveQuantity("qty")
            let price: String? = reader.isAbsent("price") ? nil : try reader.price("price")
            if qty == nil && price == nil { throw reader.failure("missing_field", "a correction needs 'qty' or 'price'") }
            return .correct(execId: execId, qty: qty, price: price)
        case "mark":
            reader.ref = value["instrument"]?.stringValue
            return .mark(instrument: try reader.string("instrument"), price: try reader.price("price"),
                         time: try reader.optionalString("time"))
        case "sod":
            reader.ref = value["instrument"]?.stringValue
            return .sod(account: try reader.string("account"), instrument: try reader.string("instrument"),
                        qty: try reader.integer("qty"), price: try reader.price("price"))
        case "order":
            reader.ref = value["orderId"]?.stringValue
            let orderId = try reader.string("orderId")
            let actionText = try reader.string("action")
            guard let action = OrderEvent.Action(rawValue: actionText) else {
                throw reader.failure("invalid_field", "action must be new, replace, cancel or reject, got \"\(actionText)\"")
            }
            var order = OrderMessage(action: action, orderId: orderId)
            if !reader.isAbsent("version") { order.version = try reader.positiveQuantity("version", code: "invalid_field") }
            order.time = try reader.optionalString("time")
            switch action {
            case .new:
                order.account = try reader.string("account")
                order.instrument = try reader.string("instrument")
                let side = try reader.string("side")
                guard side == "buy" || side == "sell" else {
                    throw reader.failure("invalid_side", "side must be \"buy\" or \"sell\", got \"\(side)\"")
                }
                order.side = side
                order.qty = try reader.positiveQuantity("qty")
                order.price = try reader.price("price")
            case .replace:
                order.qty = reader.isAbsent("qty") ? nil : try reader.positiveQuantity("qty")
                order.price = reader.isAbsent("price") ? nil : try reader.price("price")
                if order.qty == nil && order.price == nil { throw reader.failure("missing_field", "a replace needs 'qty' or 'price'") }
            case .cancel, .reject:
                break
            }
            return .order(order)
        default:
            throw MessageFormatError(code: "unknown_type", message: "unknown message type '\(type)' (fill, bust, correct, mark, sod, order)", ref: nil)
        }
    }
}

extension ProducerMessage {
    /// A valid fill or mark read from a flat object, or nil: then the tree path decides (and
    /// names any error). Accepts exactly what `parse(_:)` accepts for these two types, with the
    /// same values; `type` and `side` are compared as bytes, as they are plain ASCII when valid.
    static func readFlat(_ object: FlatJSONObject) -> ProducerMessage? {
        if object.has(FlatKey.type, equalTo: "fill") {
            let side: String
            if object.has(FlatKey.side, equalTo: "buy") { side = "buy" } else if object.has(FlatKey.side, equalTo: "sell") { side = "sell" } else { return nil }
            guard let execId = nonEmptyString(object[FlatKey.execId]), let account = nonEmptyString(object[FlatKey.account]),
                  let instrument = nonEmptyString(object[FlatKey.instrument]),
                  case .int(let qty)? = object[FlatKey.qty], qty > 0,
                  case .string(let price)? = object[FlatKey.price],
                  let time = optionalString(object[FlatKey.time]),
                  let orderId = optionalString(object[FlatKey.orderId]), orderId?.isEmpty != true
            else { return nil }
            return .fill(execId: execId, account: account, instrument: instrument, side: side, qty: qty, price: price,
                         time: time, orderId: orderId)
        }
        if object.has(FlatKey.type, equalTo: "mark") {
            guard let instrument = nonEmptyString(object[FlatKey.instrument]), case .string(let price)? = object[FlatKey.price],
                  let time = optionalString(object[FlatKey.time])
            else { return nil }
            return .mark(instrument: instrument, price: price, time: time)
        }
        return nil
    }

    /// The names `readFlat` looks up, packed once.
    private enum FlatKey {
        static let type = FlatJSONObject.Key("type")
        static let side = FlatJSONObject.Key("side")
        static let execId = FlatJSONObject.Key("execId")
        static let account = FlatJSONObject.Key("account")
        static let instrument = FlatJSONObject.Key("instrument")
        static let qty = FlatJSONObject.Key("qty")
        static let price = FlatJSONObject.Key("price")
        static let time = FlatJSONObject.Key("time")
        static let orderId = FlatJSONObject.Key("orderId")
    }

    /// A required string field that is present and not empty (`FieldReader.string` accepts it).
    private static func nonEmptyString(_ value: FlatJSONObject.Value?) -> String? {
        guard case .string(let text)? = value, !text.isEmpty else { return nil }
        return text
    }

    /// An optional string field: `.some(nil)` when absent or null, `.some(text)` for a string,
    /// nil (not acceptable) for anything else.
    private static func optionalString(_ value: FlatJSONObject.Value?) -> String?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .string(let text)?: return .some(text)
        default: return nil
        }
    }
}

/// Typed field access with errors that name the field.
private struct FieldReader {
    let value: JSONValue
    var ref: String?

    func failure(_ code: String, _ message: String) -> MessageFormatError {
        MessageFormatError(code: code, message: message, ref: ref)
    }

    func isAbsent(_ name: String) -> Bool {
        value[name] == nil || value[name] == .null
    }

    func string(_ name: String) throws(MessageFormatError) -> String {
        guard let raw = value[name], raw != .null else { throw failure("missing_field", "field '\(name)' is required") }
        guard let text = raw.stringValue else { throw failure("invalid_field", "field '\(name)' must be a string") }
        guard !text.isEmpty else { throw failure("invalid_field", "field '\(name)' must not be empty") }
        return text
    }

    func optionalString(_ name: String) throws(MessageFormatError) -> String? {
        guard let raw = value[name], raw != .null else { return nil }
        guard let text = raw.stringValue else { throw failure("invalid_field", "field '\(name)' must be a string") }
        return text
    }

    /// Prices are exact text; a JSON number is refused because a sender may already have rounded it.
    func price(_ name: String) throws(MessageFormatError) -> String {
        guard let raw = value[name], raw != .null else { throw failure("missing_field", "field '\(name)' is required") }
        guard let text = raw.stringValue else {
            throw failure("invalid_price", "field '\(name)' must be a string such as \"110-08.5\" (numbers may be rounded)")
        }
        return text
    }

    func integer(_ name: String) throws(MessageFormatError) -> Int64 {
        guard let raw = value[name], raw != .null else { throw failure("missing_field", "field '\(name)' is required") }
        guard let number = raw.intValue else {
            if case .number(let text) = raw { throw failure("invalid_quantity", "field '\(name)' must be an integer, got \(text)") }
            throw failure("invalid_quantity", "field '\(name)' must be an integer")
        }
        return number
    }

    func positiveQuantity(_ name: String, code: String = "invalid_quantity") throws(MessageFormatError) -> Int64 {
        let number: Int64
        do { number = try integer(name) } catch { throw failure(code == "invalid_quantity" ? error.code : code, error.message) }
        guard number > 0 else { throw failure(code, "field '\(name)' must be a positive integer, got \(number)") }
        return number
    }

    /// An optional string that, when present, must not be empty.
    func optionalNonEmpty(_ name: String) throws(MessageFormatError) -> String? {
        guard let text = try optionalString(name) else { return nil }
        guard !text.isEmpty else { throw failure("invalid_field", "field '\(name)' must not be empty") }
        return text
    }
}
