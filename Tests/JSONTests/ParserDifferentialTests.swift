import Bytes
import Testing
@testable import JSON

/// The parser against its verbatim predecessor (`ReferenceJSONParser`), and the flat fast path
/// against both, over producer messages, the bad-input corpus's shapes, generated values and
/// thousands of mutations of them (bytes dropped, inserted, replaced; text cut short): the same
/// value or the same error at the same offset, and a flat read only where the parser agrees.
@Suite struct ParserDifferentialTests {
    enum Outcome: Equatable {
        case value(JSONValue)
        case error(JSONParseError)
    }

    static func outcome(_ parse: () throws(JSONParseError) -> JSONValue) -> Outcome {
        do { return .value(try parse()) } catch { return .error(error) }
    }

    static let seeds: [String] = [
        #"{"type":"fill","execId":"F1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":3,"price":"110-16"}"#,
        #"{"type":"fill","execId":"E000001-1","account":"DESK-HEDGE","instrument":"ZFZ6","side":"buy","qty":1,"price":"107-15.75","order":"O000001"}"#,
        #"{"type":"fill","execId":"X","account":"ACC1","instrument":"ZNZ6","side":"sell","qty":2,"price":"110'16","time":"2026-11-24T14:30:00.123Z","orderId":"O1"}"#,
        #"{"type":"mark","instrument":"ZTZ6","price":"102'302"}"#,
        #"{"type":"sod","account":"ACC1","instrument":"ZNZ6","qty":1.5,"price":"110-16"}"#,
        #"{"type":"order","action":"new","orderId":"W00001","account":"DESK-HEDGE","instrument":"ZNZ6","side":"buy","qty":2,"price":"110.5","version":1}"#,
        #"{"type":"correct","execId":"F1","qty":"two","price":"110-16"}"#,
        #"{"type":"fill","execId":"X3","price":110.5,"qty":0,"time":null,"flag":true,"off":false}"#,
        #" { "type" : "bust" , "execId" : "F\u00e9\n\"" } "#,
        #"{"a":[1,-2,3e4,-0,0.5E-3,{"b":null}],"c":{"d":"\ud83d\ude00\/\b\f\r\t"}}"#,
        #"{"n":9223372036854775807,"m":-9223372036854775808,"o":9223372036854775808,"p":-9223372036854775809,"q":00}"#,
        #"{"type":"fill","type":"mark","instrument":"ZNZ6","price":"1"}"#,
        "{not json", "\u{00}\u{01}", "", "[]", "{}", "[1,]", "{\"a\" 1}", "\"\\ud800\"", "tru", "{\"é\":\"ü\",\"K\":1}",
        "{\"\u{212A}\":1}", "{\"a\":\"\u{1F}\"}", "  {\"qty\":-12}\n", "{\"qty\":12x}", "{\"a\":nul}", "{\"a\":truex}",
    ]

    /// Each seed, and mutations of it drawn from bytes that matter to JSON.
    static func corpus(mutationsPerSeed: Int, seed: UInt64) -> [String] {
        let special = Array(#"{}[],:"\ 0123456789.eE-+tfnul"#.utf8) + [0x0A, 0x09, 0x01, 0xC3, 0xA9, 0xFF]
        var random = SeededRandom(seed: seed)
        var texts = seeds
        for text in seeds {
            let bytes = Array(text.utf8)
            for _ in 0..<mutationsPerSeed {
                var mutated = bytes
                for _ in 0...random.below(3) {
                    let at = mutated.isEmpty ? 0 : random.below(mutated.count)
                    switch random.below(4) {
                    case 0 where !mutated.isEmpty: mutated.remove(at: at)
                    case 1: mutated.insert(special[random.below(special.count)], at: at)
                    case 2 where !mutated.isEmpty: mutated[at] = special[random.below(special.count)]
                    default: mutated = Array(mutated.prefix(at))
                    }
                }
                texts.append(String(decoding: mutated, as: UTF8.self))
            }
        }
        return texts
    }

    @Test func theParserAgreesWithItsPredecessorAndTheFlatPathOnlyReadsWhatItAgreesOn() {
        var flatReads = 0
        var values = 0
        for text in Self.corpus(mutationsPerSeed: 400, seed: 8) {
            let expected = Self.outcome { () throws(JSONParseError) in try ReferenceJSONParser.parse(text) }
            #expect(Self.outcome { () throws(JSONParseError) in try JSONValue.parse(text) } == expected, "\(text.debugDescription)")
            if case .value = expected { values += 1 }
            if let flat = FlatJSONObject(text) {
                flatReads += 1
                #expect(expected == .value(flat.jsonValue), "\(text.debugDescription)")
            }
        }
        // Both sides of the corpus are exercised: many texts parse, many flat reads happen.
        #expect(values > 1_000)
        #expect(flatReads > 500)
    }

    @Test func generatedValuesWithAnyWhitespaceParseLikeBefore() {
        var random = SeededRandom(seed: 9)
        let whitespace = [" ", "\n", "\t", "\r", ""]
        func generate(_ depth: Int) -> String {
            let pad = whitespace[random.below(whitespace.count)]
            switch random.below(depth > 2 ? 6 : 8) {
            case 0: return "\(Int64(bitPattern: random.next()) >> Int64(random.below(64)))"
            case 1: return ["\"plain\"", "\"esc\\\"\\\\\\u00e9\"", "\"\"", "\"110'16+\"", "\"é€\""][random.below(5)]
            case 2: return ["true", "false", "null"][random.below(3)]
            case 3: return ["1.5", "-0", "1e9", "-2.25E-3", "99999999999999999999"][random.below(5)]
            case 4: return "\"k\(random.below(100))\""
            case 5: return "0"
            case 6: return "[" + (0..<random.below(4)).map { _ in pad + generate(depth + 1) + pad }.joined(separator: ",") + "]"
            default:
                return "{" + (0..<random.below(5)).map { _ in "\(pad)\"f\(random.below(9))\"\(pad):\(pad)\(generate(depth + 1))" }
                    .joined(separator: ",") + pad + "}"
            }
        }
        for _ in 0..<3_000 {
            let text = generate(0)
            let expected = Self.outcome { () throws(JSONParseError) in try ReferenceJSONParser.parse(text) }
            #expect(Self.outcome { () throws(JSONParseError) in try JSONValue.parse(text) } == expected, "\(text)")
            if let flat = FlatJSONObject(text) { #expect(expected == .value(flat.jsonValue), "\(text)") }
        }
    }
}
