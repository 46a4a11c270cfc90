import Testing
import JSON

/// Lookups compare a key's length and first 16 bytes packed into words, then the bytes only for
/// longer keys: keys alike in those must still be told apart.
@Suite struct FlatJSONObjectTests {
    @Test func keysAlikeInLengthOrTheirFirstSixteenBytesAreToldApart() throws {
        let object = try #require(FlatJSONObject(#"""
            {"abcdefghijklmnop":1,"abcdefghijklmnopq1":"one","abcdefghijklmnopq2":"two","ab":true,"ba":false,"a":null}
            """#))
        #expect(object["abcdefghijklmnop"] == .int(1))
        #expect(object["abcdefghijklmnopq1"] == .string("one"))
        #expect(object["abcdefghijklmnopq2"] == .string("two"))
        #expect(object[FlatJSONObject.Key("abcdefghijklmnopq2")] == .string("two"))
        #expect(object["abcdefghijklmnopq3"] == nil)
        #expect(object["abcdefghijklmno"] == nil)
        #expect(object["ab"] == .bool(true))
        #expect(object["ba"] == .bool(false))
        #expect(object["a"] == .null)
        #expect(object["b"] == nil)
        #expect(object.has("abcdefghijklmnopq1", equalTo: "one"))
        #expect(!object.has("abcdefghijklmnopq2", equalTo: "one"))
        #expect(!object.has("ab", equalTo: "true"))
    }

    /// The first of repeated keys, as `JSONValue`'s subscript finds it.
    @Test func theFirstOfRepeatedKeysIsTheOneFound() throws {
        let object = try #require(FlatJSONObject(#"{"qty":1,"qty":2,"side":"buy","side":"sell"}"#))
        #expect(object["qty"] == .int(1))
        #expect(object.has("side", equalTo: "buy"))
        #expect(!object.has("side", equalTo: "sell"))
    }
}
