import Foundation

/// Why a producer message could not even be read: answered with `ref: null` when no ref is known.
public struct MessageFormatError: Error, Sendable, Equatable {
    public var code: String
    public var message: String
    public var ref: String?
}

extension ProducerMessage {
    /// Parses one producer message from JSON text (one `/feed` frame, one line of a feed file).
    public static func parse(json text: String) throws(MessageFormatError) -> ProducerMessage {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        else { throw MessageFormatError(code: "malformed_json", message: "message is not valid JSON", ref: nil) }
        guard let fields = object as? [String: Any] else {
            throw MessageFormatError(code: "malformed_json", message: "message must be a JSON object", ref: nil)
        }
        return try parse(object: fields)
    }

    /// Parses one producer message from a decoded JSON object.
    public static func parse(object fields: [String: Any]) throws(MessageFormatError) -> ProducerMessage {
        var reader = FieldReader(fields: fields)
        guard let type = fields["type"] as? String else {
            throw MessageFormatError(code: "missing_field", message: "field 'type' is required (fill, bust, correct, mark, sod)", ref: nil)
        }
        switch type {
        case "fill":
            reader.ref = fields["execId"] as? String
            let execId = try reader.string("execId")
            let side = try reader.string("side")
            guard side == "buy" || side == "sell" else {
                throw reader.failure("invalid_side", "side must be \"buy\" or \"sell\", got \"\(side)\"")
            }
            return .fill(execId: execId, account: try reader.string("account"), instrument: try reader.string("instrument"),
                         side: side, qty: try reader.positiveQuantity("qty"), price: try reader.price("price"),
                         time: try reader.optionalString("time"))
        case "bust":
            reader.ref = fields["execId"] as? String
            return .bust(execId: try reader.string("execId"))
        case "correct":
            reader.ref = fields["execId"] as? String
            let execId = try reader.string("execId")
            let qty: Int64? = fields["qty"] == nil ? nil : try reader.positiveQuantity("qty")
            let price: String? = fields["price"] == nil ? nil : try reader.price("price")
            if qty == nil && price == nil { throw reader.failure("missing_field", "a correction needs 'qty' or 'price'") }
            return .correct(execId: execId, qty: qty, price: price)
        case "mark":
            reader.ref = fields["instrument"] as? String
            return .mark(instrument: try reader.string("instrument"), price: try reader.price("price"),
                         time: try reader.optionalString("time"))
        case "sod":
            reader.ref = fields["instrument"] as? String
            return .sod(account: try reader.string("account"), instrument: try reader.string("instrument"),
                        qty: try reader.integer("qty"), price: try reader.price("price"))
        default:
            throw MessageFormatError(code: "unknown_type", message: "unknown message type '\(type)' (fill, bust, correct, mark, sod)", ref: nil)
        }
    }
}

/// Typed field access with errors that name the field.
private struct FieldReader {
    let fields: [String: Any]
    var ref: String?

    func failure(_ code: String, _ message: String) -> MessageFormatError {
        MessageFormatError(code: code, message: message, ref: ref)
    }

    func string(_ name: String) throws(MessageFormatError) -> String {
        guard let raw = fields[name] else { throw failure("missing_field", "field '\(name)' is required") }
        guard let value = raw as? String, !(raw is NSNumber) else { throw failure("invalid_field", "field '\(name)' must be a string") }
        guard !value.isEmpty else { throw failure("invalid_field", "field '\(name)' must not be empty") }
        return value
    }

    func optionalString(_ name: String) throws(MessageFormatError) -> String? {
        guard let raw = fields[name], !(raw is NSNull) else { return nil }
        guard let value = raw as? String else { throw failure("invalid_field", "field '\(name)' must be a string") }
        return value
    }

    /// Prices are exact text; a JSON number is refused because it may already have been rounded.
    func price(_ name: String) throws(MessageFormatError) -> String {
        guard let raw = fields[name] else { throw failure("missing_field", "field '\(name)' is required") }
        guard let value = raw as? String else {
            throw failure("invalid_price", "field '\(name)' must be a string such as \"110-08.5\" (numbers may be rounded)")
        }
        return value
    }

    func integer(_ name: String) throws(MessageFormatError) -> Int64 {
        guard let raw = fields[name] else { throw failure("missing_field", "field '\(name)' is required") }
        guard let number = raw as? NSNumber, String(cString: number.objCType) != "c" else {
            throw failure("invalid_quantity", "field '\(name)' must be an integer")
        }
        let value = number.int64Value
        guard NSNumber(value: value) == number else { throw failure("invalid_quantity", "field '\(name)' must be an integer, got \(number)") }
        return value
    }

    func positiveQuantity(_ name: String) throws(MessageFormatError) -> Int64 {
        let value = try integer(name)
        guard value > 0 else { throw failure("invalid_quantity", "field '\(name)' must be a positive integer, got \(value)") }
        return value
    }
}
