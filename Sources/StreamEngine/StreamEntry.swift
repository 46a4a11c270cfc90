import RESP

/// One committed event as the stream carries it: its global seq (which is also the entry ID,
/// `<seq>-0`, so the stream is ordered exactly like the journal), the epoch of the journal that
/// committed it, and its messages as the writer's JSON array, byte for byte what the journal's
/// `deltas` column holds and what a subscriber of the core receives.
public struct StreamEntry: Sendable, Equatable {
    public var seq: Int64
    public var epoch: String
    public var messages: [UInt8]

    public init(seq: Int64, epoch: String, messages: [UInt8]) {
        self.seq = seq; self.epoch = epoch; self.messages = messages
    }

    /// The entry ID: seq-0. Redis refuses an ID not above the stream's top, so a republished
    /// entry is refused rather than stored twice.
    public var id: String { "\(seq)-0" }

    /// The field list after the ID in `XADD`.
    public var fields: [[UInt8]] {
        [Array("epoch".utf8), Array(epoch.utf8), Array("messages".utf8), messages]
    }

    /// The messages' JSON arrays joined into one array, as the journal stores them.
    public static func messagesArray(_ jsonObjects: [[UInt8]]) -> [UInt8] {
        var array: [UInt8] = [UInt8(ascii: "[")]
        array.reserveCapacity(jsonObjects.reduce(2) { $0 + $1.count + 1 })
        for (index, object) in jsonObjects.enumerated() {
            if index > 0 { array.append(UInt8(ascii: ",")) }
            array.append(contentsOf: object)
        }
        array.append(UInt8(ascii: "]"))
        return array
    }
}

/// Why bytes from the stream are not an entry this code accepts.
public struct StreamEntryError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension StreamEntry {
    /// The seq in an entry ID `<seq>-0`; nil for any other shape (a foreign writer's `*` IDs
    /// have a millisecond time and a sequence part that is not 0).
    public static func seq(fromID id: [UInt8]) -> Int64? {
        guard let dash = id.firstIndex(of: UInt8(ascii: "-")), id[(dash + 1)...].elementsEqual("0".utf8) else { return nil }
        let digits = id[..<dash]
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              digits.first != 48 || digits.count == 1 else { return nil }
        return digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) }
    }

    /// One element of an `XRANGE`/`XREVRANGE` reply or of an `XREAD` stream's entry list:
    /// `[id, [field, value, …]]`.
    public init(reply: RESPValue) throws(StreamEntryError) {
        guard let pair = reply.elements, pair.count == 2, case .bulk(let id?) = pair[0], let fields = pair[1].elements else {
            throw StreamEntryError("entry is not [id, [field, value, …]]")
        }
        guard let seq = Self.seq(fromID: id), seq > 0 else {
            throw StreamEntryError("entry ID \(String(decoding: id, as: UTF8.self)) is not <seq>-0")
        }
        guard fields.count % 2 == 0 else { throw StreamEntryError("entry \(seq) has an odd number of field items") }
        var epoch: String?
        var messages: [UInt8]?
        for index in stride(from: 0, to: fields.count, by: 2) {
            guard case .bulk(let name?) = fields[index], case .bulk(let value?) = fields[index + 1] else {
                throw StreamEntryError("entry \(seq) has a field that is not a bulk string")
            }
            switch String(decoding: name, as: UTF8.self) {
            case "epoch": epoch = String(decoding: value, as: UTF8.self)
            case "messages": messages = value
            default: break   // later writers may add fields
            }
        }
        guard let epoch, !epoch.isEmpty else { throw StreamEntryError("entry \(seq) has no epoch") }
        guard let messages, messages.first == UInt8(ascii: "["), messages.last == UInt8(ascii: "]") else {
            throw StreamEntryError("entry \(seq) has no messages array")
        }
        self.init(seq: seq, epoch: epoch, messages: messages)
    }

    /// The entries of an `XRANGE`/`XREVRANGE` reply.
    public static func entries(fromRange reply: RESPValue) throws(StreamEntryError) -> [StreamEntry] {
        guard let items = reply.elements else { throw StreamEntryError("range reply is not an array") }
        var entries: [StreamEntry] = []
        entries.reserveCapacity(items.count)
        for item in items { entries.append(try StreamEntry(reply: item)) }
        return entries
    }

    /// The entries of an `XREAD` reply for one key (`[[key, [entry, …]]]`; null when `BLOCK`
    /// timed out).
    public static func entries(fromRead reply: RESPValue) throws(StreamEntryError) -> [StreamEntry] {
        if reply.isNull { return [] }
        guard let streams = reply.elements else { throw StreamEntryError("read reply is not an array") }
        var entries: [StreamEntry] = []
        for stream in streams {
            guard let pair = stream.elements, pair.count == 2 else { throw StreamEntryError("read reply stream is not [key, entries]") }
            entries += try Self.entries(fromRange: pair[1])
        }
        return entries
    }
}
