import JSON
import Testing
@testable import EventSources

@Suite struct ExactValuesTests {
    @Test func wholeNumbersAcceptEveryExactIntegerForm() throws {
        let json = try JSONValue.parse(#"[3, 3.0, 3e0, 3.5, "3", true, 1764000000000000123, 99999999999999999999]"#)
        guard case .array(let items) = json else { Issue.record("not an array"); return }
        #expect(items.map(\.wholeNumber) == [3, 3, 3, nil, nil, nil, 1_764_000_000_000_000_123, nil])
    }

    @Test func decimalsAreExact() {
        #expect(ScaledDecimal("11026.5625")!.multiplied(by: ScaledDecimal("0.01")!)!.description == "110.265625")
        #expect(ScaledDecimal("3528.5")!.multiplied(by: ScaledDecimal("0.03125")!)!.description == "110.265625")
        #expect(ScaledDecimal("1.10265625e2")!.description == "110.265625")
        #expect(ScaledDecimal("-0.5")!.description == "-0.5")
        #expect(ScaledDecimal("3.0")!.integerValue == 3)
        #expect(ScaledDecimal("110.5")!.wholeMultiple(of: ScaledDecimal("0.015625")!) == 7072)
        #expect(ScaledDecimal("110.51")!.wholeMultiple(of: ScaledDecimal("0.015625")!) == nil)
        #expect(ScaledDecimal("1.2.3") == nil && ScaledDecimal("") == nil && ScaledDecimal("abc") == nil)
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
