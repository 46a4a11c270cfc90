@testable import Monitors
import Testing

@Suite struct ExactValuesTests {
    @Test func jsonKeepsNumberTextAndTellsBooleansFromNumbers() throws {
        let json = try ExactJSON.parse(#"{"px": 110.265625, "big": 1764000000000000123, "flag": true, "s": "a\"\u00e9\n", "list": [1, null]}"#)
        #expect(json["px"] == .number("110.265625"))
        #expect(json["big"] == .number("1764000000000000123"))
        #expect(json["flag"] == .bool(true))
        #expect(json["s"] == .string("a\"é\n"))
        #expect(json["list"] == .array([.number("1"), .null]))
        #expect(try ExactJSON.parse(json.rendered) == json)
        #expect(try ExactJSON.parse(json.prettyRendered) == json)
    }

    @Test func jsonErrorsGiveLineAndColumn() {
        #expect(throws: ExactJSONError(line: 2, column: 3, message: "expected ',' or '}' in an object")) {
            try ExactJSON.parse("{\"a\": 1\n  \"b\": 2}")
        }
        #expect(throws: ExactJSONError.self) { try ExactJSON.parse("[01]") }
        #expect(throws: ExactJSONError.self) { try ExactJSON.parse("{} x") }
    }

    @Test func decimalsAreExact() {
        #expect(ExactDecimal("11026.5625")!.multiplied(by: ExactDecimal("0.01")!)!.description == "110.265625")
        #expect(ExactDecimal("3528.5")!.multiplied(by: ExactDecimal("0.03125")!)!.description == "110.265625")
        #expect(ExactDecimal("1.10265625e2")!.description == "110.265625")
        #expect(ExactDecimal("-0.5")!.description == "-0.5")
        #expect(ExactDecimal("3.0")!.integerValue == 3)
        #expect(ExactDecimal("110.5")!.wholeMultiple(of: ExactDecimal("0.015625")!) == 7072)
        #expect(ExactDecimal("110.51")!.wholeMultiple(of: ExactDecimal("0.015625")!) == nil)
        #expect(ExactDecimal("1.2.3") == nil && ExactDecimal("") == nil && ExactDecimal("abc") == nil)
    }

    @Test func isoTimesRoundTrip() {
        let text = "2026-11-24T14:30:00.123Z"
        let nanos = ISOTime.parse(text)!
        #expect(nanos == 1_795_530_600_123_000_000)
        #expect(ISOTime.format(nanoseconds: nanos) == text)
        #expect(ISOTime.format(nanoseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(ISOTime.parse("2024-02-29T23:59:59.5Z").map { ISOTime.format(nanoseconds: $0) } == "2024-02-29T23:59:59.500Z")
        #expect(ISOTime.parse("2026-11-24 14:30") == nil)
    }

    @Test func secretsNeverPrint() {
        let secret = Secret("s3cr3t")
        #expect("\(secret)" == "****")
        #expect(String(reflecting: secret) == "****")
        var config = TTConfig()
        config.appSecret = secret
        #expect(!"\(config)".contains("s3cr3t"))
        #expect(secret.reveal() == "s3cr3t")
    }
}
