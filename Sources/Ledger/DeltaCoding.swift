/// One event's deltas in a compact binary form: what the journal keeps for resumes and the stream
/// publisher's catch-up, instead of the JSON of their messages (~2.5 KB of JSON per fill becomes
/// ~0.4 KB, so several journal rows share a page and a single-fill commit rewrites one table page).
///
/// Lossless: `decode(encode(d)) == d` for every field, so the messages written again from the
/// decoded values are byte for byte the ones subscribers got live (checked in `LedgerTests`).
///
/// Layout: a format byte, a count, then per delta a kind byte and its fields in declaration order
/// (LEB128 varints, signed ones zigzagged; optionals behind a presence byte; enums as their index
/// in the lists below). Strings are written once per event: a repeat is the index of its first
/// occurrence, since account and instrument names recur in the fill, position and total lines.
public enum DeltaCoding {
    public struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The only format so far; a reader refuses any other.
    static let format: UInt8 = 1

    public static func encode(_ deltas: [LedgerDelta]) -> [UInt8] {
        var out = DeltaWriter(deltaCount: deltas.count)
        out.header(format: format, count: deltas.count)
        for delta in deltas {
            switch delta {
            case .fill(let record): out.fill(record)
            case .position(let line): out.position(line)
            case .account(let totals): out.account(totals, kind: 2)
            case .desk(let totals): out.desk(totals, kind: 3)
            case .mark(let record): out.mark(record)
            case .limit(let totals): out.account(totals, kind: 5)
            case .deskLimit(let totals): out.desk(totals, kind: 6)
            case .order(let record): out.order(record)
            }
        }
        return out.finished()
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> [LedgerDelta] {
        var input = DeltaReader(bytes)
        do {
            let version = try input.reader.byte()
            guard version == format else { throw CheckpointError.unreadable("delta format \(version) is not supported") }
            let count = try input.reader.count()
            var deltas: [LedgerDelta] = []
            deltas.reserveCapacity(count)
            for _ in 0..<count {
                switch try input.reader.byte() {
                case 0: deltas.append(.fill(try input.fill()))
                case 1: deltas.append(.position(try input.position()))
                case 2: deltas.append(.account(try input.account()))
                case 3: deltas.append(.desk(try input.desk()))
                case 4:
                    deltas.append(.mark(MarkRecord(instrument: try input.string(), price: Price(units: try input.reader.signed()),
                                                   time: try input.reader.signed(), source: try input.string())))
                case 5: deltas.append(.limit(try input.account()))
                case 6: deltas.append(.deskLimit(try input.desk()))
                case 7: deltas.append(.order(try input.order()))
                case let kind: throw CheckpointError.unreadable("unknown delta kind \(kind)")
                }
            }
            guard input.reader.atEnd else { throw CheckpointError.unreadable("\(bytes.count - input.reader.offset) bytes after the last delta") }
            return deltas
        } catch {
            throw DecodingError(description: "stored deltas unreadable: \(error)")
        }
    }

    // Enum values by their index in these lists (the writer's exhaustive `code` switches below
    // must agree): append new cases, never reorder.
    static let sides: [Side] = [.buy, .sell]
    static let fillStatuses: [FillStatus] = [.live, .busted, .corrected]
    static let markSources: [MarkSource] = [.mark, .lastFill, .sod, .none]
    static let limitStates: [LimitState] = [.ok, .warning, .breached]
    static let orderStatuses: [OrderStatus] = [.working, .filled, .cancelled, .rejected]
}

/// Writes `DeltaCoding`'s format (the layout its doc comment describes, which `DeltaReader`
/// reads) into zeroed room that is already there: each delta first makes room for the most its
/// fields can take, then stores its bytes through one `MutableSpan`. An `Array.append` per byte
/// (uniqueness and capacity checked every time) cost several times the bytes themselves on the
/// ingest thread, which encodes ~10 deltas a fill.
private struct DeltaWriter {
    /// `bytes[..<written]` is the encoding so far; the rest is zeroed room, cut off by `finished`.
    private var bytes: [UInt8]
    private var written = 0
    /// The strings written so far in this event, in order of first occurrence, each with its
    /// shape (one array: one allocation per event).
    private var strings: [(text: String, shape: TextShape)] = []
    /// Where the last position line's instrument and the last totals' account were found. A
    /// fill's event repeats its instrument in every position line and lists the accounts' totals
    /// in the order their position lines named them, so one `==` against the likely entry (the
    /// same storage: a few instructions) settles most lookups before any search.
    private var lastInstrument = -1
    private var lastTotalsAccount = -1

    /// The most a delta's fields other than its strings take: a kind byte, at most 13 integers
    /// (10 bytes each as LEB128), their presence bytes and enum codes. A position line, the
    /// largest, needs 126.
    private static let roomBesidesStrings = 160

    init(deltaCount: Int) {
        // Room for a typical event (~50 bytes a delta) and the largest delta after it, so most
        // events never grow the array.
        bytes = Array(repeating: 0, count: 64 + Self.roomBesidesStrings + 64 * deltaCount)
        // A fill's event names ~8 strings (its execId, source, instrument and the accounts holding it).
        strings.reserveCapacity(16)
    }

    /// The encoding, without the room left over.
    consuming func finished() -> [UInt8] {
        bytes.removeSubrange(written...)
        return bytes
    }

    mutating func header(format: UInt8, count: Int) {
        makeRoom(11)
        var at = written
        var out = bytes.mutableSpan
        out[at] = format
        at += 1
        Self.unsigned(UInt64(count), to: &out, at: &at)
        written = at
    }

    mutating func fill(_ record: FillRecord) {
        let fill = record.fill
        let execId = newText(fill.execId), account = newText(fill.account), instrument = newText(fill.instrument)
        let source = newText(fill.source)
        var orderId: StringField?
        if let text = fill.orderId { orderId = newText(text) }
        makeRoom(execId.room + account.room + instrument.room + source.room + (orderId?.room ?? 0))
        var at = written
        var out = bytes.mutableSpan
        out[at] = 0
        at += 1
        Self.string(fill.execId, execId, to: &out, at: &at)
        Self.string(fill.account, account, to: &out, at: &at)
        Self.string(fill.instrument, instrument, to: &out, at: &at)
        out[at] = Self.code(fill.side)
        at += 1
        Self.signed(fill.qty, to: &out, at: &at)
        Self.signed(fill.price.units, to: &out, at: &at)
        Self.signed(fill.time, to: &out, at: &at)
        Self.string(fill.source, source, to: &out, at: &at)
        if let orderId, let orderIdText = fill.orderId {
            out[at] = 1
            at += 1
            Self.string(orderIdText, orderId, to: &out, at: &at)
        } else {
            out[at] = 0
            at += 1
        }
        out[at] = Self.code(record.status)
        at += 1
        Self.optional(record.originalQty, to: &out, at: &at)
        Self.optional(record.originalPrice?.units, to: &out, at: &at)
        Self.optional(record.statusTime, to: &out, at: &at)
        written = at
    }

    mutating func position(_ line: PositionLine) {
        let account = newText(line.account)
        let instrument = newText(line.instrument, likelyAt: lastInstrument)
        lastInstrument = instrument.index
        makeRoom(account.room + instrument.room)
        var at = written
        var out = bytes.mutableSpan
        out[at] = 1
        at += 1
        Self.string(line.account, account, to: &out, at: &at)
        Self.string(line.instrument, instrument, to: &out, at: &at)
        Self.signed(line.sodQty, to: &out, at: &at)
        Self.optional(line.sodPrice?.units, to: &out, at: &at)
        Self.signed(line.bought, to: &out, at: &at)
        Self.signed(line.sold, to: &out, at: &at)
        Self.signed(line.net, to: &out, at: &at)
        Self.optional(line.avgPrice?.units, to: &out, at: &at)
        Self.optional(line.mark?.units, to: &out, at: &at)
        out[at] = Self.code(line.markSource)
        at += 1
        Self.signed(line.realized.units, to: &out, at: &at)
        Self.signed(line.unrealized.units, to: &out, at: &at)
        Self.signed(line.total.units, to: &out, at: &at)
        Self.signed(line.dv01.units, to: &out, at: &at)
        Self.optional(line.lastFillTime, to: &out, at: &at)
        written = at
    }

    /// An account's totals: kind 2 (`account`) or 5 (`limit`).
    mutating func account(_ totals: AccountTotals, kind: UInt8) {
        let account = newText(totals.account, likelyAt: lastTotalsAccount + 1)
        lastTotalsAccount = account.index
        makeRoom(account.room)
        var at = written
        var out = bytes.mutableSpan
        out[at] = kind
        at += 1
        Self.string(totals.account, account, to: &out, at: &at)
        Self.signed(totals.realized.units, to: &out, at: &at)
        Self.signed(totals.unrealized.units, to: &out, at: &at)
        Self.signed(totals.total.units, to: &out, at: &at)
        Self.signed(totals.netContracts, to: &out, at: &at)
        Self.signed(totals.grossContracts, to: &out, at: &at)
        Self.signed(totals.dv01.units, to: &out, at: &at)
        Self.optional(totals.lossLimit?.units, to: &out, at: &at)
        Self.signed(totals.limitUsed.units, to: &out, at: &at)
        out[at] = Self.code(totals.limitState)
        at += 1
        Self.optional(totals.positionLimit, to: &out, at: &at)
        out[at] = Self.code(totals.positionState)
        at += 1
        written = at
    }

    /// The desk's totals: kind 3 (`desk`) or 6 (`deskLimit`).
    mutating func desk(_ totals: DeskTotals, kind: UInt8) {
        makeRoom(0)
        var at = written
        var out = bytes.mutableSpan
        out[at] = kind
        at += 1
        Self.signed(totals.realized.units, to: &out, at: &at)
        Self.signed(totals.unrealized.units, to: &out, at: &at)
        Self.signed(totals.total.units, to: &out, at: &at)
        Self.signed(totals.grossContracts, to: &out, at: &at)
        Self.signed(totals.dv01.units, to: &out, at: &at)
        Self.optional(totals.lossLimit?.units, to: &out, at: &at)
        Self.signed(totals.limitUsed.units, to: &out, at: &at)
        out[at] = Self.code(totals.limitState)
        at += 1
        written = at
    }

    mutating func mark(_ record: MarkRecord) {
        let instrument = newText(record.instrument), source = newText(record.source)
        makeRoom(instrument.room + source.room)
        var at = written
        var out = bytes.mutableSpan
        out[at] = 4
        at += 1
        Self.string(record.instrument, instrument, to: &out, at: &at)
        Self.signed(record.price.units, to: &out, at: &at)
        Self.signed(record.time, to: &out, at: &at)
        Self.string(record.source, source, to: &out, at: &at)
        written = at
    }

    mutating func order(_ record: OrderRecord) {
        let orderId = newText(record.orderId), account = newText(record.account), instrument = newText(record.instrument)
        let source = newText(record.source)
        makeRoom(orderId.room + account.room + instrument.room + source.room)
        var at = written
        var out = bytes.mutableSpan
        out[at] = 7
        at += 1
        Self.string(record.orderId, orderId, to: &out, at: &at)
        Self.string(record.account, account, to: &out, at: &at)
        Self.string(record.instrument, instrument, to: &out, at: &at)
        out[at] = Self.code(record.side)
        at += 1
        Self.signed(record.price.units, to: &out, at: &at)
        Self.signed(record.qty, to: &out, at: &at)
        Self.signed(record.leavesQty, to: &out, at: &at)
        Self.signed(record.filledQty, to: &out, at: &at)
        out[at] = Self.code(record.status)
        at += 1
        Self.signed(record.version, to: &out, at: &at)
        Self.signed(record.time, to: &out, at: &at)
        Self.string(record.source, source, to: &out, at: &at)
        written = at
    }

    // MARK: Strings

    /// How a string field will be written: a reference to an earlier occurrence in this event,
    /// or (`reference` 0) its text; and the most that takes.
    struct StringField {
        var reference: Int
        /// The reference, and for a first occurrence the length and the UTF-8 text.
        var room: Int
        /// Where the string is in this event's list.
        var index: Int
    }

    /// 0 and the text the first time in this event; afterwards 1 + the index of its first
    /// occurrence (by `==`, as the format has always matched them). Settled before the delta's
    /// bytes are stored, in the order of its fields, so the references are the ones writing
    /// field by field gives.
    private mutating func newText(_ value: String, likelyAt likely: Int = -1) -> StringField {
        // The list never holds two equal strings, so an equal entry is the first occurrence.
        if likely >= 0 && likely < strings.count && strings[likely].text == value {
            return StringField(reference: likely + 1, room: 10, index: likely)
        }
        let shape = TextShape(value)
        for index in strings.indices {
            let seen = strings[index].shape
            if shape.isASCII && seen.isASCII {
                // ASCII text is equal exactly when its bytes are: a different length or first
                // eight bytes settles it without a string comparison.
                guard seen == shape else { continue }
                if shape.count <= 8 || strings[index].text == value { return StringField(reference: index + 1, room: 10, index: index) }
            } else if strings[index].text == value {
                return StringField(reference: index + 1, room: 10, index: index)
            }
        }
        strings.append((value, shape))
        return StringField(reference: 0, room: 20 + shape.count, index: strings.count - 1)
    }

    /// What tells two names apart before `==` has to: the UTF-8 length, the first eight bytes,
    /// and whether all of it is ASCII (for anything else `==` also matches canonically equal
    /// spellings, so only `==` may decide).
    struct TextShape: Equatable {
        var count: Int
        var firstBytes: UInt64
        var isASCII: Bool

        init(_ text: String) {
            let utf8 = text.utf8.span
            var firstBytes: UInt64 = 0
            var anyBits: UInt8 = 0
            for index in utf8.indices {
                let byte = utf8[index]
                anyBits |= byte
                if index < 8 { firstBytes |= UInt64(byte) << (8 * UInt64(index)) }
            }
            count = utf8.count
            self.firstBytes = firstBytes
            isASCII = anyBits < 0x80
        }
    }

    /// `value` as `field` (its lookup in this event) says: a reference, or 0, the length and the text.
    private static func string(_ value: String, _ field: StringField, to out: inout MutableSpan<UInt8>, at: inout Int) {
        unsigned(UInt64(field.reference), to: &out, at: &at)
        guard field.reference == 0 else { return }
        let text = value.utf8.span
        unsigned(UInt64(text.count), to: &out, at: &at)
        for index in text.indices { out[at + index] = text[index] }
        at += text.count
    }

    // MARK: Numbers and codes

    private mutating func makeRoom(_ stringRoom: Int) {
        let needed = Self.roomBesidesStrings + stringRoom
        if bytes.count - written < needed {
            bytes.append(contentsOf: repeatElement(0, count: Swift.max(needed, bytes.count)))
        }
    }

    /// LEB128: seven bits a byte, low bits first, the top bit set on all but the last.
    @inline(__always)
    private static func unsigned(_ value: UInt64, to out: inout MutableSpan<UInt8>, at: inout Int) {
        var rest = value
        while rest >= 0x80 {
            out[at] = UInt8(truncatingIfNeeded: rest) | 0x80
            at += 1
            rest >>= 7
        }
        out[at] = UInt8(truncatingIfNeeded: rest)
        at += 1
    }

    /// Zigzagged, so small negative numbers stay short.
    @inline(__always)
    private static func signed(_ value: Int64, to out: inout MutableSpan<UInt8>, at: inout Int) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &out, at: &at)
    }

    /// A presence byte, then the value if present.
    @inline(__always)
    private static func optional(_ value: Int64?, to out: inout MutableSpan<UInt8>, at: inout Int) {
        guard let value else {
            out[at] = 0
            at += 1
            return
        }
        out[at] = 1
        at += 1
        signed(value, to: &out, at: &at)
    }

    // Exhaustive switches, so a new case does not compile until it has a code (the index of
    // the case in `DeltaCoding`'s lists, which the reader uses).
    private static func code(_ side: Side) -> UInt8 { side == .buy ? 0 : 1 }

    private static func code(_ status: FillStatus) -> UInt8 {
        switch status {
        case .live: 0
        case .busted: 1
        case .corrected: 2
        }
    }

    private static func code(_ source: MarkSource) -> UInt8 {
        switch source {
        case .mark: 0
        case .lastFill: 1
        case .sod: 2
        case .none: 3
        }
    }

    private static func code(_ state: LimitState) -> UInt8 {
        switch state {
        case .ok: 0
        case .warning: 1
        case .breached: 2
        }
    }

    private static func code(_ status: OrderStatus) -> UInt8 {
        switch status {
        case .working: 0
        case .filled: 1
        case .cancelled: 2
        case .rejected: 3
        }
    }
}

private struct DeltaReader {
    var reader: CheckpointReader
    private var strings: [String] = []

    init(_ bytes: [UInt8]) { reader = CheckpointReader(bytes) }

    mutating func string() throws(CheckpointError) -> String {
        // Not `count()`: a reference may be larger than the bytes left.
        let reference = try reader.unsigned()
        guard reference == 0 else {
            guard reference <= UInt64(strings.count) else { throw .unreadable("string reference \(reference) before its text") }
            return strings[Int(reference) - 1]
        }
        let text = try reader.string()
        strings.append(text)
        return text
    }

    mutating func optionalString() throws(CheckpointError) -> String? {
        try present() ? try string() : nil
    }

    mutating func optionalInt() throws(CheckpointError) -> Int64? {
        try present() ? try reader.signed() : nil
    }

    mutating func optionalPrice() throws(CheckpointError) -> Price? { try optionalInt().map(Price.init(units:)) }
    mutating func optionalMoney() throws(CheckpointError) -> Money? { try optionalInt().map(Money.init(units:)) }
    mutating func money() throws(CheckpointError) -> Money { Money(units: try reader.signed()) }

    private mutating func present() throws(CheckpointError) -> Bool {
        switch try reader.byte() {
        case 0: return false
        case 1: return true
        case let other: throw .unreadable("presence byte \(other) at byte \(reader.offset - 1)")
        }
    }

    mutating func code<T>(in cases: [T]) throws(CheckpointError) -> T {
        let index = Int(try reader.byte())
        guard index < cases.count else { throw .unreadable("\(T.self) code \(index) at byte \(reader.offset - 1)") }
        return cases[index]
    }

    mutating func fill() throws(CheckpointError) -> FillRecord {
        let fill = Fill(execId: try string(), account: try string(), instrument: try string(), side: try code(in: DeltaCoding.sides),
                        qty: try reader.signed(), price: Price(units: try reader.signed()), time: try reader.signed(),
                        source: try string(), orderId: try optionalString())
        return FillRecord(fill: fill, status: try code(in: DeltaCoding.fillStatuses), originalQty: try optionalInt(),
                          originalPrice: try optionalPrice(), statusTime: try optionalInt())
    }

    mutating func position() throws(CheckpointError) -> PositionLine {
        PositionLine(account: try string(), instrument: try string(), sodQty: try reader.signed(), sodPrice: try optionalPrice(),
                     bought: try reader.signed(), sold: try reader.signed(), net: try reader.signed(), avgPrice: try optionalPrice(),
                     mark: try optionalPrice(), markSource: try code(in: DeltaCoding.markSources), realized: try money(),
                     unrealized: try money(), total: try money(), dv01: try money(), lastFillTime: try optionalInt())
    }

    mutating func account() throws(CheckpointError) -> AccountTotals {
        AccountTotals(account: try string(), realized: try money(), unrealized: try money(), total: try money(),
                      netContracts: try reader.signed(), grossContracts: try reader.signed(), dv01: try money(),
                      lossLimit: try optionalMoney(), limitUsed: try money(), limitState: try code(in: DeltaCoding.limitStates),
                      positionLimit: try optionalInt(), positionState: try code(in: DeltaCoding.limitStates))
    }

    mutating func desk() throws(CheckpointError) -> DeskTotals {
        DeskTotals(realized: try money(), unrealized: try money(), total: try money(), grossContracts: try reader.signed(),
                   dv01: try money(), lossLimit: try optionalMoney(), limitUsed: try money(),
                   limitState: try code(in: DeltaCoding.limitStates))
    }

    mutating func order() throws(CheckpointError) -> OrderRecord {
        OrderRecord(orderId: try string(), account: try string(), instrument: try string(), side: try code(in: DeltaCoding.sides),
                    price: Price(units: try reader.signed()), qty: try reader.signed(), leavesQty: try reader.signed(),
                    filledQty: try reader.signed(), status: try code(in: DeltaCoding.orderStatuses), version: try reader.signed(),
                    time: try reader.signed(), source: try string())
    }
}
