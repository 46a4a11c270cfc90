import Bytes
import ConfigFiles
import Foundation
import JSON
import Ledger
import Testing
@testable import Wire

/// The byte encoder (`MessageEncoder.encode`, `append*`, `JSONBytes`) must write exactly what the
/// `JSONValue` path serializes: subscribers, the journal and resumes compare messages by bytes.
@Suite struct EncodingEquivalenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config")

    static func catalog() throws -> InstrumentCatalog {
        try InstrumentsFile.load(path: root.appendingPathComponent("instruments.json").path)
    }

    static func config() throws -> LedgerConfig {
        try AccountsFile.load(path: root.appendingPathComponent("accounts.json").path)
    }

    static func treeBytes(_ value: JSONValue) -> [UInt8] { Array(value.serialized.utf8) }

    static func bytes(_ write: (inout JSONBytes) -> Void) -> [UInt8] {
        var out = JSONBytes()
        write(&out)
        return out.bytes
    }

    /// What ReadContext.stripType leaves of a delta object for the snapshot.
    static func stripped(_ value: JSONValue) -> JSONValue {
        guard case .object(let fields) = value else { return value }
        return .object(fields.filter { $0.0 != "type" && $0.0 != "scope" })
    }

    // MARK: Whole messages from random ledgers

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func everyDeltaOfARandomLedgerEncodesLikeTheTree(seed: UInt64) throws {
        let encoder = MessageEncoder(catalog: try Self.catalog())
        var ledger = Ledger(catalog: encoder.catalog, config: try Self.config())
        var random = SeededRandom(seed: seed)
        var checked = 0
        var kinds = Set<String>()
        for (index, event) in RandomEvents.generate(catalog: encoder.catalog, count: 1_500, random: &random).enumerated() {
            guard let deltas = try? ledger.apply(event) else { continue }
            let seq = Int64(index + 1)
            for delta in deltas {
                let routed = encoder.route(delta, seq: seq)
                let encoded = encoder.encode(delta, seq: seq)
                #expect(encoded.json == Self.treeBytes(routed.json), "\(routed.json.serialized)")
                #expect(encoded.channel == routed.channel)
                #expect(encoded.account == routed.account)
                #expect(encoded.instrument == routed.instrument)
                kinds.insert(routed.json["type"]?.stringValue ?? "?")
                if routed.json["status"]?.stringValue == "corrected" { kinds.insert("corrected") }
                if routed.json["status"]?.stringValue == "busted" { kinds.insert("busted") }
                checked += 1
            }
        }
        // The generator must reach every message shape, or the comparison proves little.
        #expect(kinds.isSuperset(of: ["fill", "position", "pnl", "mark", "limit", "corrected", "busted"]), "\(kinds)")
        #expect(checked > 3_000)

        // The snapshot entries of the final state.
        for line in ledger.positions {
            #expect(Self.bytes { encoder.appendSnapshotPosition(line, to: &$0) } == Self.treeBytes(Self.stripped(encoder.position(line, seq: nil))))
            #expect(Self.bytes { encoder.appendPosition(line, seq: nil, to: &$0) } == Self.treeBytes(encoder.position(line, seq: nil)))
        }
        for totals in ledger.accounts {
            #expect(Self.bytes { encoder.appendSnapshotAccount(totals, to: &$0) }
                    == Self.treeBytes(Self.stripped(encoder.account(totals, seq: nil, type: "account"))))
        }
        #expect(Self.bytes { encoder.appendSnapshotDesk(ledger.desk, to: &$0) } == Self.treeBytes(Self.stripped(encoder.desk(ledger.desk, seq: nil))))
        for mark in ledger.marks {
            #expect(Self.bytes { encoder.appendSnapshotMark(mark, to: &$0) } == Self.treeBytes(Self.stripped(encoder.mark(mark, seq: nil))))
        }
        for (index, record) in ledger.recentFills(limit: 200).enumerated() {
            let seq: Int64? = index % 3 == 0 ? nil : Int64(index)
            #expect(Self.bytes { encoder.appendFill(record, seq: seq, to: &$0) } == Self.treeBytes(encoder.fill(record, seq: seq)))
        }
    }

    @Test func snapshotArraysOfEntriesAreCommaSeparatedLikeTheTree() throws {
        let encoder = MessageEncoder(catalog: try Self.catalog())
        var ledger = Ledger(catalog: encoder.catalog, config: try Self.config())
        var random = SeededRandom(seed: 9)
        for event in RandomEvents.generate(catalog: encoder.catalog, count: 300, random: &random) { _ = try? ledger.apply(event) }
        let tree = JSONValue.object([
            ("instruments", .array(encoder.catalog.all.map { encoder.instrument($0) })),
            ("positions", .array(ledger.positions.map { Self.stripped(encoder.position($0, seq: nil)) })),
            ("desk", Self.stripped(encoder.desk(ledger.desk, seq: nil))),
            ("empty", .array([])),
            ("fills", .array(ledger.recentFills(limit: 20).map { encoder.fill($0, seq: 7) })),
        ])
        let bytes = Self.bytes { out in
            out.openObject()
            out.key("instruments"); out.openArray()
            for instrument in encoder.catalog.all { encoder.appendInstrument(instrument, to: &out) }
            out.closeArray()
            out.key("positions"); out.openArray()
            for line in ledger.positions { encoder.appendSnapshotPosition(line, to: &out) }
            out.closeArray()
            out.key("desk"); encoder.appendSnapshotDesk(ledger.desk, to: &out)
            out.key("empty"); out.openArray(); out.closeArray()
            out.key("fills"); out.openArray()
            for record in ledger.recentFills(limit: 20) { encoder.appendFill(record, seq: 7, to: &out) }
            out.closeArray()
            out.closeObject()
        }
        #expect(ledger.positions.count > 1)
        #expect(bytes == Self.treeBytes(tree))
    }

    @Test func hostileStringsAndUnknownInstrumentsEncodeLikeTheTree() throws {
        let encoder = MessageEncoder(catalog: try Self.catalog())
        let odd = "A\"c\\c\n\r\t\u{01}\u{1F}é€😀"
        let fill = Fill(execId: odd, account: odd, instrument: "QQZ9", side: .sell, qty: 3,
                        price: Price(units: -12_345_678_900), time: -1, source: odd)
        let corrected = FillRecord(fill: fill, status: .corrected, originalQty: 5, originalPrice: Price(units: 1))
        let deltas: [LedgerDelta] = [
            .fill(corrected),
            .fill(FillRecord(fill: fill, status: .corrected)),
            .fill(FillRecord(fill: fill, status: .busted, statusTime: 5)),
            .position(PositionLine(account: odd, instrument: "QQZ9", avgPrice: Price(units: 7), mark: Price(units: Int64.min),
                                   markSource: .lastFill, realized: Money(units: Int64.max), lastFillTime: Int64.min)),
            .position(PositionLine(account: "ACC1", instrument: "ESZ6", net: -4, avgPrice: Price(units: 600_025_000_000),
                                   markSource: .sod)),
            .account(AccountTotals(account: odd, lossLimit: nil, limitState: .warning)),
            .limit(AccountTotals(account: odd, lossLimit: Money(units: -1), limitState: .breached)),
            .desk(DeskTotals(realized: Money(units: Int64.min), grossContracts: Int64.max)),
            .mark(MarkRecord(instrument: odd, price: Price(units: 0), time: Int64.max, source: odd)),
        ]
        for delta in deltas {
            let expected = Self.treeBytes(encoder.route(delta, seq: Int64.min).json)
            #expect(encoder.encode(delta, seq: Int64.min).json == expected)
        }
        #expect(encoder.encode(deltas, seq: 3).map(\.json) == deltas.map { Self.treeBytes(encoder.route($0, seq: 3).json) })
    }

    @Test func theJSONFrameFromBytesEqualsTheFrameFromText() {
        for length in [0, 5, 125, 126, 300, 65_535, 65_536] {
            let payload = String(repeating: "x", count: length)
            #expect(Frames.text(bytes: Array(payload.utf8)).bytes == Frames.text(payload).bytes)
        }
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
/// A random but plausible stream on the default instruments: fills near a walking price, marks,
/// busts and corrections of earlier fills, SOD lots, and a day roll now and then.
enum RandomEvents {
    static func generate(catalog: InstrumentCatalog, count: Int, random: inout SeededRandom) -> [LedgerEvent] {
        let accounts = ["ACC1", "ACC2", "ACC3", "DESK-HEDGE", "Désk \"β\""]
        let instruments = catalog.all
        var walk = Array(repeating: Int64(0), count: instruments.count)
        var execIds: [String] = []
        var events: [LedgerEvent] = []
        var time: Nanos = 1_795_530_600_000_000_000
        for n in 0..<count {
            time += Int64(random.below(5_000)) * 1_000_000 + Int64(random.below(1_000_000))
            let slot = random.below(instruments.count)
            let instrument = instruments[slot]
            walk[slot] = max(-60, min(60, walk[slot] + Int64(random.below(7)) - 3))
            let base: Int64 = (instrument.product == "ES" ? 6000 : 110) * Price.unitsPerPoint
            let price = Price(units: base + walk[slot] * instrument.tick.units)
            let account = accounts[random.below(accounts.count)]
            switch random.below(100) {
            case 0..<70:
                let execId = "E\(n)"
                execIds.append(execId)
                events.append(.fill(Fill(execId: execId, account: account, instrument: instrument.symbol,
                                         side: random.below(2) == 0 ? .buy : .sell, qty: Int64(random.below(20) + 1),
                                         price: price, time: time, source: n % 2 == 0 ? "feed" : "tt")))
            case 70..<82:
                events.append(.mark(instrument: instrument.symbol, price: price, time: time, source: "feed"))
            case 82..<88 where !execIds.isEmpty:
                events.append(.bust(execId: execIds[random.below(execIds.count)], time: time))
            case 88..<95 where !execIds.isEmpty:
                let qty: Int64? = random.below(2) == 0 ? Int64(random.below(9) + 1) : nil
                let newPrice: Price? = random.below(2) == 0 || qty == nil ? price : nil
                events.append(.correct(execId: execIds[random.below(execIds.count)], qty: qty, price: newPrice, time: time))
            case 95..<99:
                events.append(.sod(account: account, instrument: instrument.symbol, qty: Int64(random.below(11)) - 5,
                                   price: price, time: time))
            default:
                events.append(.dayRoll(time: time))
            }
        }
        return events
    }
}
