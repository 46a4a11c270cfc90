import Bytes
import JSON
import Testing
@testable import Wire

/// `ProducerMessage.parse(json:)` (a flat read for plain fills and marks, the tree for the rest)
/// against the tree path alone, over the messages producers send, the bad-input corpus's cases
/// and thousands of mutations of them: the same message, or the same error code, message and ref.
@Suite struct ProducerParseTests {
    enum Outcome: Equatable {
        case message(ProducerMessage)
        case error(MessageFormatError)
    }

    static func outcome(_ parse: () throws(MessageFormatError) -> ProducerMessage) -> Outcome {
        do { return .message(try parse()) } catch { return .error(error) }
    }

    static let fill = #"{"type":"fill","execId":"F1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":3,"price":"110-16"}"#
    static let seeds: [String] = [
        fill,
        #"{"type":"fill","execId":"E000001-1","account":"DESK-HEDGE","instrument":"ZFZ6","side":"buy","qty":1,"price":"107-15.75","order":"O000001"}"#,
        #"{"type":"fill","execId":"X","account":"ACC1","instrument":"ZNZ6","side":"sell","qty":2,"price":"110'16","time":"2026-11-24T14:30:00.123Z","orderId":"O1"}"#,
        #"{"type":"fill","execId":"X","account":"ACC1","instrument":"ZNZ6","side":"sell","qty":2,"price":"","time":null,"orderId":null}"#,
        #"{"type":"fill","execId":"X","account":"ACC1","instrument":"ZNZ6","side":"sell","qty":2,"price":"1","orderId":""}"#,
        #"{"type":"fill","execId":"X1","account":"ACC1","instrument":"ZNZ6","side":"long","qty":3,"price":"110-16"}"#,
        #"{"type":"fill","execId":"X2","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":0,"price":"110-16"}"#,
        #"{"type":"fill","execId":"X3","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":3,"price":110.5}"#,
        #"{"type":"fill","execId":"X4","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":3,"price":"110-16","time":7}"#,
        #"{"type":"fill","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":3,"price":"110-16"}"#,
        #"{"type":"fill","execId":"","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":3.0,"price":"110-16"}"#,
        #"{"type":"fill","execId":"é\"q","account":"Désk","instrument":"ZNZ6","side":"bu\u0079","qty":-3,"price":"110-16"}"#,
        #"{"type":"mark","instrument":"ZTZ6","price":"102'302"}"#,
        #"{"type":"mark","instrument":"ZNZ6","price":"110-16","time":"2026-11-24T14:30:00.123Z","at":"x"}"#,
        #"{"type":"mark","instrument":"ZNZ6"}"#,
        #"{"type":"mark","instrument":"","price":"1"}"#,
        #"{"type":"sod","account":"ACC1","instrument":"ZNZ6","qty":1.5,"price":"110-16"}"#,
        #"{"type":"order","action":"new","orderId":"W1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":2,"price":"110.5","version":1}"#,
        #"{"type":"order","action":"amend","orderId":"O1"}"#,
        #"{"type":"correct","execId":"F1","qty":"two","price":"110-16"}"#,
        #"{"type":"bust","execId":"NEVER"}"#, #"{"type":"bust"}"#, #"{"type":"trade","execId":"X6"}"#,
        #"{"type":7}"#, #"{"type":"fill","type":"mark","instrument":"ZNZ6","price":"1"}"#,
        "{not json", "\u{00}\u{01}", "[]", "{}", " \(fill)\n", fill.replacingOccurrences(of: ",", with: " , "),
    ]

    static func corpus(mutationsPerSeed: Int) -> [String] {
        let special = Array(#"{}[],:"\ 0123456789.-tfnulbysem"#.utf8) + [0x0A, 0x01, 0xC3, 0xA9]
        var random = SeededRandom(seed: 31)
        var texts = seeds
        for text in seeds {
            let bytes = Array(text.utf8)
            for _ in 0..<mutationsPerSeed {
                var mutated = bytes
                for _ in 0...random.below(2) {
                    let at = random.below(Swift.max(mutated.count, 1))
                    switch random.below(4) {
                    case 0 where !mutated.isEmpty: mutated.remove(at: at)
                    case 1: mutated.insert(special[random.below(special.count)], at: at)
                    case 2 where !mutated.isEmpty: mutated[at] = special[random.below(special.count)]
                    default: mutated = Array(mutated.prefix(at + 1))
                    }
                }
                texts.append(String(decoding: mutated, as: UTF8.self))
            }
        }
        return texts
    }

    @Test func theFlatPathReadsWhatTheTreeReadsAndLeavesEveryErrorToIt() {
        var flatReads = 0
        var accepted = 0
        for text in Self.corpus(mutationsPerSeed: 300) {
            let expected = Self.outcome { () throws(MessageFormatError) in try ProducerMessage.parseTree(json: text) }
            #expect(Self.outcome { () throws(MessageFormatError) in try ProducerMessage.parse(json: text) } == expected, "\(text.debugDescription)")
            if case .message = expected { accepted += 1 }
            if let object = FlatJSONObject(text), let message = ProducerMessage.readFlat(object) {
                flatReads += 1
                #expect(expected == .message(message), "\(text.debugDescription)")
            }
        }
        // Mutations mostly break a message; enough of them still parse to exercise both paths.
        #expect(accepted > 300)
        #expect(flatReads > 250)
    }

    @Test func plainFillsAndMarksTakeTheFlatPath() throws {
        let object = try #require(FlatJSONObject(Self.fill))
        #expect(ProducerMessage.readFlat(object) == .fill(execId: "F1", account: "ACC1", instrument: "ZNZ6", side: "buy", qty: 3,
                                                          price: "110-16", time: nil, orderId: nil))
        #expect(ProducerMessage.readFlat(try #require(FlatJSONObject(#"{"type":"mark","instrument":"ZTZ6","price":"102'302"}"#)))
                == .mark(instrument: "ZTZ6", price: "102'302", time: nil))
        // Everything else is the tree's: other types, and fills with any field out of order.
        #expect(ProducerMessage.readFlat(try #require(FlatJSONObject(#"{"type":"bust","execId":"F1"}"#))) == nil)
        #expect(ProducerMessage.readFlat(try #require(FlatJSONObject(Self.fill.replacingOccurrences(of: "\"qty\":3", with: "\"qty\":0")))) == nil)
    }
}
