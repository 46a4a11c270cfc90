import Testing
@testable import JSON

@Suite struct JSONTests {
    @Test func serializationKeepsKeyOrderAndEscapes() {
        let value = JSONValue.object([("b", .int(-2)), ("a", .string("q\"\\\n\u{01}é")), ("n", .null), ("t", .bool(true)),
                                      ("l", .array([.int(1), .object([])]))])
        #expect(value.serialized == #"{"b":-2,"a":"q\"\\\n\u0001é","n":null,"t":true,"l":[1,{}]}"#)
    }

    @Test func parseRoundTripsWhatWeWrite() throws {
        let text = #"{"type":"fill","seq":12,"price":"110'085","nested":{"x":[true,false,null]},"u":"\u00e9\ud83d\ude00"}"#
        let value = try JSONValue.parse(text)
        #expect(value["seq"] == .int(12))
        #expect(value["u"] == .string("é😀"))
        #expect(try JSONValue.parse(value.serialized) == value)
    }

    @Test(arguments: ["", "{", "[1,]", #"{"a" 1}"#, "1.", "01", "-", "1e", #""\ud800""#, "tru", #"{"a":1} x"#, "\"a\u{01}\""])
    func malformedInputIsRejected(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func nonIntegerNumbersKeepTheirExactText() throws {
        #expect(try JSONValue.parse("110.265625") == .number("110.265625"))
        #expect(try JSONValue.parse("-1e3") == .number("-1e3"))
        #expect(try JSONValue.parse("99999999999999999999") == .number("99999999999999999999"))
        #expect(try JSONValue.parse("-42") == .int(-42))
        #expect(try JSONValue.parse("[0.1]").serialized == "[0.1]")
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }
}
