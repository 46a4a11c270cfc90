import Bytes
import Foundation
import JSON
import Ledger
import Testing
@testable import Wire

/// The byte writer against `JSONValue.serialized`, scalar by scalar: the one JSON writer and the
/// parser that reads resumes, configs and client messages agree on every spelling.
@Suite struct JSONBytesTests {
    static func treeBytes(_ value: JSONValue) -> [UInt8] { Array(value.serialized.utf8) }

    static func bytes(_ write: (inout JSONBytes) -> Void) -> [UInt8] {
        var out = JSONBytes()
        write(&out)
        return out.bytes
    }

    // MARK: Scalars

    @Test func moneyAndPricesMatchDecimalStringOverRandomAndEdgeUnits() {
        var random = SeededRandom(seed: 77)
        var units: [Int64] = [0, 1, -1, 10, -10, 99_999_999, -99_999_999, 100_000_000, -100_000_000, 100_000_001,
                              12_500_000, -12_500_000, 48_437_500_000, -20_312_500_000, Int64.max, Int64.min,
                              Int64.max - 1, Int64.min + 1, 1_000_000_000_000_000_000, -5_000_000_000]
        for _ in 0..<20_000 {
            let raw = Int64(bitPattern: random.next())
            units.append(raw)
            // Values with many trailing zeros exercise the trimming; small ones the zero padding.
            let power = Int64([1, 10, 1_000, 100_000, 10_000_000, 100_000_000][Int(random.next() % 6)])
            units.append(raw / power * power)
            units.append(raw % 1_000)
        }
        for value in units {
            #expect(Self.bytes { $0.money(Money(units: value)) } == Array("\"\(Money(units: value).decimalString)\"".utf8))
            #expect(Self.bytes { $0.price(Price(units: value)) } == Array("\"\(Price(units: value).decimalString)\"".utf8))
        }
        #expect(Self.bytes { $0.money(nil as Money?) } == Array("null".utf8))
    }

    @Test func integersMatchTheirDecimalText() {
        var random = SeededRandom(seed: 5)
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min, 1_000_000_000_000_000_000]
        for _ in 0..<20_000 {
            let raw = Int64(bitPattern: random.next())
            values += [raw, raw >> Int64(random.next() % 63)]
        }
        for value in values {
            #expect(Self.bytes { $0.int(value) } == Array(String(value).utf8))
        }
    }

    @Test func timesMatchIsoStringOverRandomAndEdgeInstants() {
        var random = SeededRandom(seed: 11)
        let day: Int64 = 86_400_000_000_000
        var instants: [Int64] = [0, -1, 1, day - 1, day, -day, -day - 1, Int64.max, Int64.min, 999_999,
                                 951_782_400_000_000_000,   // 2000-02-29
                                 4_107_542_400_000_000_000, // 2100-03-01
                                 1_795_530_600_123_456_789]
        for _ in 0..<20_000 {
            let raw = Int64(bitPattern: random.next())
            instants += [raw, raw % (200 * 365 * day)]
        }
        for nanos in instants {
            #expect(Self.bytes { $0.time(nanos) } == Array("\"\(isoString(nanos))\"".utf8))
        }
        #expect(Self.bytes { $0.time(nil as Nanos?) } == Array("null".utf8))
    }

    @Test func stringsEscapeExactlyLikeTheTree() {
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{00}", "\u{08}",
                                          "\u{0C}", "\u{1F}", "\u{7F}", "é", "€", "😀", "\u{2028}"]
        var random = SeededRandom(seed: 3)
        for _ in 0..<5_000 {
            var text = ""
            for _ in 0..<Int(random.next() % 12) {
                text.unicodeScalars.append(alphabet[Int(random.next() % UInt64(alphabet.count))])
            }
            #expect(Self.bytes { $0.string(text) } == Self.treeBytes(.string(text)), "\(text.debugDescription)")
            #expect(Self.bytes { $0.openObject(); $0.key(escaping: text); $0.null(); $0.closeObject() }
                    == Self.treeBytes(.object([(text, .null)])))
        }
    }

    @Test func anyTreeWritesLikeItsSerialization() throws {
        let tree = JSONValue.object([
            ("a", .array([.int(-3), .number("1.5e3"), .bool(true), .bool(false), .null, .array([]), .object([])])),
            ("b\"", .object([("nested", .array([.object([("x", .string("y\n"))]), .string("")]))])),
            ("filter", .object([("channels", .array([.string("fills"), .string("pnl")])), ("accounts", .null)])),
        ])
        #expect(Self.bytes { $0.value(tree) } == Self.treeBytes(tree))
        // Items after a finished value get their comma, whatever wrote them.
        #expect(Self.bytes { out in
            out.openArray(); out.value(tree); out.int(1); out.string("s"); out.money(Money(units: 5)); out.closeArray()
        } == Self.treeBytes(.array([tree, .int(1), .string("s"), .string("0.00000005")])))
    }
}
