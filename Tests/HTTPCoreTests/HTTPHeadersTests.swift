import Testing
@testable import HTTPCore

@Suite struct HTTPHeadersTests {
    @Test func lookupIsCaseInsensitiveAndReturnsTheFirstValue() {
        let headers = HTTPHeaders([("Content-Type", "a"), ("content-type", "b")])
        #expect(headers["CONTENT-TYPE"] == "a")
        #expect(headers["missing"] == nil)
    }

    @Test func repeatedNamesKeepEveryValueInOrder() {
        var headers = HTTPHeaders()
        headers.add("X-Id", "1")
        headers.add("Other", "z")
        headers.add("x-id", "2")
        #expect(headers.values("X-ID") == ["1", "2"])
        #expect(headers.fields.map(\.name) == ["X-Id", "Other", "x-id"])
    }

    @Test func tokensSplitTrimAndLowercaseAcrossValues() {
        let headers = HTTPHeaders([("Connection", "keep-alive, Upgrade"), ("connection", " ,TE ")])
        #expect(headers.tokens("connection") == ["keep-alive", "upgrade", "te"])
    }

    @Test func setReplacesAndRemoveDeletesEveryField() {
        var headers = HTTPHeaders([("A", "1"), ("a", "2"), ("B", "3")])
        headers.set("A", "9")
        #expect(headers.values("a") == ["9"])
        headers.remove("b")
        #expect(!headers.contains("B"))
        #expect(headers.count == 1)
    }
}
