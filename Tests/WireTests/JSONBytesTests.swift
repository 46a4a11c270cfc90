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

    /// Each digit count's edges (10^k − 1, 10^k, 10^k + 1 for every k), where the writer tells
    /// the count by comparisons and writes two digits at a time, zero-padded or not.
    @Test func numbersAtEveryPowerOfTenMatchTheirDecimalText() {
        var values: [UInt64] = [UInt64.max, UInt64.max - 1]
        var power: UInt64 = 1
        for exponent in 0...19 {
            values += [power - 1, power, power + 1]
            if exponent < 19 { power *= 10 }
        }
        for value in values {
            for minimum in [1, 2, 3, 8, 13, 20] {
                let text = String(value)
                let padded = String(repeating: "0", count: max(0, minimum - text.count)) + text
                #expect(Self.bytes { $0.beginString(); $0.stringDigits(value, minimumCount: minimum); $0.endString() }
                        == Array("\"\(padded)\"".utf8))
            }
            guard let signed = Int64(exactly: value) else { continue }
            #expect(Self.bytes { $0.int(signed) } == Array(String(signed).utf8))
            #expect(Self.bytes { $0.int(-signed) } == Array(String(-signed).utf8))
            for units in [signed, -signed] {
                #expect(Self.bytes { $0.money(Money(units: units)) } == Array("\"\(Money(units: units).decimalString)\"".utf8))
            }
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

    /// Every byte that needs escaping, and its harmless neighbours, at every position of plain
    /// strings of every length up to 40 (the writer tests words of 4 and 8 bytes at once).
    @Test func eachEscapedByteIsFoundAtEveryPositionAndLength() {
        let specials: [Unicode.Scalar] = ["\u{00}", "\u{01}", "\u{1F}", "\"", "\\", " ", "!", "#", "[", "]", "\u{7F}", "é", "€"]
        for length in 0...40 {
            for position in 0..<max(length, 1) {
                for special in specials {
                    var text = String(repeating: "A", count: length)
                    if length > 0 {
                        var scalars = Array(text.unicodeScalars)
                        scalars[position] = special
                        text = String(String.UnicodeScalarView(scalars))
                    }
                    #expect(Self.bytes { $0.string(text) } == Self.treeBytes(.string(text)), "\(text.debugDescription)")
                }
            }
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

    // MARK: Price text

    /// The byte writer's price text is the instrument's `.tt` format, quoted, for every display
    /// (the catalog's and each 32nds split and decimal place count), on the grid and off it
    /// (average prices), negative (spreads) and at the extremes.
    @Test func priceTextMatchesTheInstrumentFormatForEveryDisplay() throws {
        var instruments = try WireSchemaTests.catalog().all
        for display in [1, 2, 4, 8].map({ PriceDisplay.thirtySeconds(parts: $0) }) + (-1...12).map({ PriceDisplay.decimal(places: $0) }) {
            instruments.append(Instrument(symbol: "X", product: "X", tick: Price(units: 390_625), dollarsPerPoint: 1000, display: display))
        }
        var random = SeededRandom(seed: 13)
        var prices: [Int64] = [0, 1, -1, 390_625, -390_625, 3_125_000, 100_000_000, -100_000_000, 11_057_812_500,
                               -11_057_812_500, Int64.max, Int64.min, Int64.max - 390_624, Int64.min + 390_625]
        for _ in 0..<5_000 {
            let points = Int64(random.below(20_000)) - 2_000
            let eighths = Int64(random.below(256))
            prices.append(points * 100_000_000 + eighths * 390_625)           // on the 1/256 grid
            prices.append(-(points * 100_000_000 + eighths * 390_625))
            prices.append(points * 100_000_000 + Int64(random.below(100_000_000)))   // anywhere
            prices.append(Int64(bitPattern: random.next()))
        }
        for instrument in instruments {
            for units in prices {
                let price = Price(units: units)
                #expect(Self.bytes { $0.priceText(price, display: instrument.display) } == Self.treeBytes(.string(instrument.format(price, style: .tt))),
                        "\(instrument.display) \(units)")
            }
        }
    }

    @Test func decimalsPadTheirFractionToTheMinimumAskedFor() {
        #expect(Self.bytes { $0.quotedDecimal8(601_250_000_000, minimumFractionDigits: 2) } == Array(#""6012.50""#.utf8))
        #expect(Self.bytes { $0.quotedDecimal8(0, minimumFractionDigits: 3) } == Array(#""0.000""#.utf8))
        #expect(Self.bytes { $0.quotedDecimal8(-1, minimumFractionDigits: 2) } == Array(#""-0.00000001""#.utf8))
        #expect(Self.bytes { $0.quotedDecimal8(Int64.min, minimumFractionDigits: 8) } == Array(#""-92233720368.54775808""#.utf8))
    }

    // MARK: Room

    /// A writer that starts with the smallest room and grows many times over writes what the tree
    /// serializes, comma for comma; and one reused with `removeAll` starts clean.
    @Test func growingAndReusedWritersMatchTheTree() {
        var random = SeededRandom(seed: 21)
        var items: [JSONValue] = []
        var out = JSONBytes(reservingCapacity: 1)
        out.openArray()
        for index in 0..<5_000 {
            let item: JSONValue
            switch random.below(5) {
            case 0: item = .int(Int64(bitPattern: random.next()))
            case 1: item = .string(String(repeating: "ab\"\n", count: random.below(40)))
            case 2: item = .object([("k\(index)", .array([.null, .bool(true)])), ("t", .string("é"))])
            case 3: item = .bool(false)
            default: item = .number("1.5e\(index)")
            }
            out.value(item)
            items.append(item)
        }
        out.closeArray()
        #expect(out.bytes == Self.treeBytes(.array(items)))
        #expect(out.count == out.bytes.count)
        out.removeAll()
        out.openObject(); out.key("a"); out.int(1); out.closeObject()
        #expect(out.bytes == Array(#"{"a":1}"#.utf8))
    }

    @Test func stringsFromUTF8BytesAndInPiecesMatchTheTree() {
        let text = "A\"c\\c\n\u{01}é€😀"
        let utf8 = Array(text.utf8)
        #expect(Self.bytes { $0.string(utf8: utf8.span) } == Self.treeBytes(.string(text)))
        #expect(Self.bytes { out in
            out.openArray(); out.int(1)
            out.beginString(); out.stringCharacter(UInt8(ascii: "-")); out.stringDigits(110); out.stringCharacter(UInt8(ascii: "'"))
            out.stringDigits(5, minimumCount: 2); out.endString()
            out.closeArray()
        } == Array(#"[1,"-110'05"]"#.utf8))
    }
}
