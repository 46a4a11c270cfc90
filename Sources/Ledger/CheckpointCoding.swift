/// Byte-level writer and reader for the checkpoint: LEB128 varints (signed values zigzagged)
/// and length-prefixed UTF-8 strings. Hand-written because JSONEncoder took seconds per 100k
/// fills; this is linear and allocation-light.
struct CheckpointWriter {
    var bytes: [UInt8] = []

    mutating func unsigned(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func signed(_ value: Int64) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func count(_ value: Int) { unsigned(UInt64(value)) }

    mutating func string(_ value: String) {
        var text = value
        text.withUTF8 { utf8 in
            count(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// Length-prefixed bytes, as `string` writes a string's UTF-8.
    mutating func bytes(_ value: ArraySlice<UInt8>) {
        count(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func lots(_ lots: ArraySlice<Lot>) {
        count(lots.count)
        for lot in lots {
            signed(lot.qty)
            signed(lot.price.units)
        }
    }

    /// A presence byte, then the value if present.
    mutating func optional(_ value: Int64?) {
        guard let value else { return byte(0) }
        byte(1)
        signed(value)
    }

    /// A flags byte (1 original qty, 2 original price, 4 status time), then those present.
    mutating func amendment(_ amendment: Amendment?) {
        let flags: UInt8 = (amendment?.originalQty != nil ? 1 : 0) | (amendment?.originalPrice != nil ? 2 : 0)
            | (amendment?.statusTime != nil ? 4 : 0)
        byte(flags)
        if let qty = amendment?.originalQty { signed(qty) }
        if let price = amendment?.originalPrice { signed(price.units) }
        if let time = amendment?.statusTime { signed(time) }
    }
}

struct CheckpointReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset == bytes.count }

    mutating func byte() throws(CheckpointError) -> UInt8 {
        guard offset < bytes.count else { throw .unreadable("truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func unsigned() throws(CheckpointError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw .unreadable("varint too long at byte \(offset)") }
            value |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func signed() throws(CheckpointError) -> Int64 {
        let raw = try unsigned()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A count that must fit what is left of the input (so garbage cannot ask for huge arrays).
    mutating func count() throws(CheckpointError) -> Int {
        let value = try unsigned()
        guard value <= UInt64(bytes.count - offset) else { throw .unreadable("count \(value) beyond the data at byte \(offset)") }
        return Int(value)
    }

    mutating func lots() throws(CheckpointError) -> [Lot] {
        var lots: [Lot] = []
        for _ in 0..<(try count()) {
            let qty = try signed()
            lots.append(Lot(qty: qty, price: Price(units: try signed())))
        }
        return lots
    }

    mutating func optional() throws(CheckpointError) -> Int64? {
        switch try byte() {
        case 0: return nil
        case 1: return try signed()
        default: throw .unreadable("bad presence byte at \(offset - 1)")
        }
    }

    mutating func amendment() throws(CheckpointError) -> Amendment {
        let flags = try byte()
        guard flags & ~7 == 0 else { throw .unreadable("bad amendment flags at \(offset - 1)") }
        return Amendment(originalQty: flags & 1 != 0 ? try signed() : nil,
                         originalPrice: flags & 2 != 0 ? Price(units: try signed()) : nil,
                         statusTime: flags & 4 != 0 ? try signed() : nil)
    }

    /// What `string()` reads, as the bytes (a slice of the input, nothing copied).
    mutating func stringBytes() throws(CheckpointError) -> ArraySlice<UInt8> {
        let length = try count()
        defer { offset += length }
        return bytes[offset..<offset + length]
    }

    mutating func string() throws(CheckpointError) -> String {
        let length = try count()
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    }
}
