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

    @Test func countsAndSingleValuesIgnoreCase() {
        let headers = HTTPHeaders([("Host", "h"), ("X-Key", "a"), ("x-key", "b"), ("Sec-WebSocket-Version", "13")])
        #expect(headers.count(of: "x-KEY") == 2)
        #expect(headers.count(of: "missing") == 0)
        #expect(headers.onlyValueBytes("x-key") == nil)   // two fields: not one value
        #expect(headers.onlyValueBytes("missing") == nil)
        #expect(headers.onlyValueBytes("sec-websocket-version").map { Array($0) } == Array("13".utf8))
        #expect(headers.firstValueBytes("X-KEY").map { Array($0) } == Array("a".utf8))
    }

    @Test func containsTokenMatchesTrimmedTokensIgnoringCase() {
        let headers = HTTPHeaders([("Connection", "keep-alive, UPGRADE"), ("connection", " ,\tTE ,")])
        for token in ["keep-alive", "upgrade", "te"] {
            #expect(headers.containsToken(token, in: "CONNECTION"))
            #expect(headers.tokens("connection").contains(token))
        }
        for token in ["keep", "alive", "", "upgrade,", "t"] {
            #expect(!headers.containsToken(token, in: "connection"))
        }
        #expect(!headers.containsToken("upgrade", in: "upgrade"))
    }

    @Test func lookupsStillWorkAfterRemovingAndSetting() {
        var headers = HTTPHeaders([("A", "1"), ("Content-Type", "x"), ("a", "2"), ("B", "3")])
        headers.remove("A")
        #expect(headers.fields.map(\.name) == ["Content-Type", "B"])
        #expect(headers["content-type"] == "x" && headers["b"] == "3" && headers["a"] == nil)
        headers.set("content-TYPE", "y")
        #expect(headers.values("Content-Type") == ["y"])
        #expect(headers.fields.map(\.name) == ["B", "content-TYPE"])
    }
}
