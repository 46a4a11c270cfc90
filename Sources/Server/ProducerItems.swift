import Ingest
import JSON
import Wire

/// Shared by `/feed` and `POST /api/fills`: parsing, account scope, replies.
enum ProducerItems {
    static func item(fromJSON text: String, principal: Principal) -> (IngestPipeline.Item, String?) {
        do {
            let message = try ProducerMessage.parse(json: text)
            return (check(message, principal: principal), message.ref)
        } catch {
            return (.refused(code: error.code, message: error.message, ref: error.ref), error.ref)
        }
    }

    static func item(from value: JSONValue, principal: Principal) -> (IngestPipeline.Item, String?) {
        do {
            let message = try ProducerMessage.parse(value)
            return (check(message, principal: principal), message.ref)
        } catch {
            return (.refused(code: error.code, message: error.message, ref: error.ref), error.ref)
        }
    }

    /// A producer scoped to some accounts may only write those accounts: fills and SOD name
    /// theirs; a bust or correction is checked by the pipeline against the fill it names, an order
    /// message against the order's account.
    static func check(_ message: ProducerMessage, principal: Principal) -> IngestPipeline.Item {
        switch message {
        case .fill(_, let account, _, _, _, _, _, _), .sod(let account, _, _, _):
            if !principal.allows(account: account) {
                return .refused(code: "unauthorized_account", message: "token '\(principal.name)' may not write account '\(account)'", ref: message.ref)
            }
        case .bust, .correct, .order:
            if let accounts = principal.accounts { return .scoped(message, accounts: accounts) }
        case .mark:
            break
        }
        return .message(message)
    }

    static func replyValue(_ result: SubmitResult, ref: String?) -> JSONValue {
        let refValue: JSONValue = ref.map { .string($0) } ?? .null
        switch result {
        case .ack(let seq):
            return .object([("type", .string("ack")), ("ref", refValue), ("seq", .int(seq))])
        case .duplicate(let seq):
            return .object([("type", .string("duplicate")), ("ref", refValue), ("seq", .int(seq))])
        case .rejected(let code, let message):
            return .object([("type", .string("error")), ("ref", refValue), ("code", .string(code)), ("message", .string(message))])
        }
    }

    static func reply(_ result: SubmitResult, ref: String?) -> String { String(decoding: replyBytes(result, ref: ref), as: UTF8.self) }

    /// The same reply written straight into bytes: one per acknowledged message on the hot path,
    /// where building a `JSONValue` tree and a `String` cost ~15,000 instructions an ack.
    static func replyBytes(_ result: SubmitResult, ref: String?) -> [UInt8] {
        var out = JSONBytes(reservingCapacity: 64 + (ref?.utf8.count ?? 0))
        out.openObject()
        out.key("type")
        switch result {
        case .ack: out.string(static: "ack")
        case .duplicate: out.string(static: "duplicate")
        case .rejected: out.string(static: "error")
        }
        out.key("ref")
        if let ref { out.string(ref) } else { out.null() }
        switch result {
        case .ack(let seq), .duplicate(let seq):
            out.key("seq")
            out.int(seq)
        case .rejected(let code, let message):
            out.key("code")
            out.string(code)
            out.key("message")
            out.string(message)
        }
        out.closeObject()
        return out.bytes
    }
}
