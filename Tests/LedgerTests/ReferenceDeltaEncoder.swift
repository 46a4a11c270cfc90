import Bytes
@testable import Ledger

/// `DeltaCoding.encode` as first written (an `Array.append` per byte through `CheckpointWriter`),
/// kept verbatim as the reference: the format is stored in users' journals, so the faster writer
/// must produce exactly these bytes (`DeltaCodingTests`).
enum ReferenceDeltaEncoder {
    static func encode(_ deltas: [LedgerDelta]) -> [UInt8] {
        var out = ReferenceDeltaWriter()
        out.writer.bytes.reserveCapacity(64 + 80 * deltas.count)
        out.writer.byte(DeltaCoding.format)
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
}

private struct ReferenceDeltaWriter {
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
