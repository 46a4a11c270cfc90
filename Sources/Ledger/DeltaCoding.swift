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
        var out = DeltaWriter()
        out.writer.bytes.reserveCapacity(64 + 80 * deltas.count)
        out.writer.byte(format)
        out.writer.count(deltas.count)
        for delta in deltas {
            switch delta {
            case .fill(let record):
                out.writer.byte(0)
                out.fill(record)
            case .position(let line):
                out.writer.byte(1)
                out.position(line)
            case .account(let totals):
                out.writer.byte(2)
                out.account(totals)
            case .desk(let totals):
                out.writer.byte(3)
                out.desk(totals)
            case .mark(let record):
                out.writer.byte(4)
                out.string(record.instrument)
                out.writer.signed(record.price.units)
                out.writer.signed(record.time)
                out.string(record.source)
            case .limit(let totals):
                out.writer.byte(5)
                out.account(totals)
            case .deskLimit(let totals):
                out.writer.byte(6)
                out.desk(totals)
            case .order(let record):
                out.writer.byte(7)
                out.order(record)
            }
        }
        return out.writer.bytes
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

private struct DeltaWriter {
    var writer = CheckpointWriter()
    /// The strings written so far in this event, in order of first occurrence.
    private var strings: [String] = []

    /// 0 and the text the first time; afterwards 1 + the index of its first occurrence.
    mutating func string(_ value: String) {
        if let index = strings.firstIndex(of: value) {
            writer.count(index + 1)
        } else {
            writer.count(0)
            writer.string(value)
            strings.append(value)
        }
    }

    mutating func optional(_ value: String?) {
        guard let value else { return writer.byte(0) }
        writer.byte(1)
        string(value)
    }

    mutating func optional(_ value: Int64?) {
        guard let value else { return writer.byte(0) }
        writer.byte(1)
        writer.signed(value)
    }

    // Exhaustive switches, so a new case does not compile until it has a code.
    mutating func code(_ side: Side) {
        writer.byte(side == .buy ? 0 : 1)
    }

    mutating func code(_ status: FillStatus) {
        switch status {
        case .live: writer.byte(0)
        case .busted: writer.byte(1)
        case .corrected: writer.byte(2)
        }
    }

    mutating func code(_ source: MarkSource) {
        switch source {
        case .mark: writer.byte(0)
        case .lastFill: writer.byte(1)
        case .sod: writer.byte(2)
        case .none: writer.byte(3)
        }
    }

    mutating func code(_ state: LimitState) {
        switch state {
        case .ok: writer.byte(0)
        case .warning: writer.byte(1)
        case .breached: writer.byte(2)
        }
    }

    mutating func code(_ status: OrderStatus) {
        switch status {
        case .working: writer.byte(0)
        case .filled: writer.byte(1)
        case .cancelled: writer.byte(2)
        case .rejected: writer.byte(3)
        }
    }

    mutating func fill(_ record: FillRecord) {
        let fill = record.fill
        string(fill.execId)
        string(fill.account)
        string(fill.instrument)
        code(fill.side)
        writer.signed(fill.qty)
        writer.signed(fill.price.units)
        writer.signed(fill.time)
        string(fill.source)
        optional(fill.orderId)
        code(record.status)
        optional(record.originalQty)
        optional(record.originalPrice?.units)
        optional(record.statusTime)
    }

    mutating func position(_ line: PositionLine) {
        string(line.account)
        string(line.instrument)
        writer.signed(line.sodQty)
        optional(line.sodPrice?.units)
        writer.signed(line.bought)
        writer.signed(line.sold)
        writer.signed(line.net)
        optional(line.avgPrice?.units)
        optional(line.mark?.units)
        code(line.markSource)
        writer.signed(line.realized.units)
        writer.signed(line.unrealized.units)
        writer.signed(line.total.units)
        writer.signed(line.dv01.units)
        optional(line.lastFillTime)
    }

    mutating func account(_ totals: AccountTotals) {
        string(totals.account)
        writer.signed(totals.realized.units)
        writer.signed(totals.unrealized.units)
        writer.signed(totals.total.units)
        writer.signed(totals.netContracts)
        writer.signed(totals.grossContracts)
        writer.signed(totals.dv01.units)
        optional(totals.lossLimit?.units)
        writer.signed(totals.limitUsed.units)
        code(totals.limitState)
        optional(totals.positionLimit)
        code(totals.positionState)
    }

    mutating func desk(_ totals: DeskTotals) {
        writer.signed(totals.realized.units)
        writer.signed(totals.unrealized.units)
        writer.signed(totals.total.units)
        writer.signed(totals.grossContracts)
        writer.signed(totals.dv01.units)
        optional(totals.lossLimit?.units)
        writer.signed(totals.limitUsed.units)
        code(totals.limitState)
    }

    mutating func order(_ record: OrderRecord) {
        string(record.orderId)
        string(record.account)
        string(record.instrument)
        code(record.side)
        writer.signed(record.price.units)
        writer.signed(record.qty)
        writer.signed(record.leavesQty)
        writer.signed(record.filledQty)
        code(record.status)
        writer.signed(record.version)
        writer.signed(record.time)
        string(record.source)
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
