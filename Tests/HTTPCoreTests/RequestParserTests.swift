import Bytes
import Testing
@testable import HTTPCore

@Suite struct RequestParserTests {
    @Test func parsesASimpleGet() throws {
        let result = parseAll("GET /api/snapshot?account=ACC%201&x=a+b&x=last HTTP/1.1\r\nHost: example\r\nAccept:  */*  \r\n\r\n")
        #expect(result.error == nil)
        let request = try #require(result.requests.first)
        #expect(request.method == "GET")
        #expect(request.target == "/api/snapshot?account=ACC%201&x=a+b&x=last")
        #expect(request.path == "/api/snapshot")
        #expect(request.query == ["account": "ACC 1", "x": "last"])
        #expect(request.versionMinor == 1)
        #expect(request.headers["accept"] == "*/*")
        #expect(request.body.isEmpty)
    }

    @Test func headerFieldsKeepTheirBytesOrderAndCase() throws {
        let request = try #require(parseAll("GET / HTTP/1.1\r\nHost: h\r\nX-Name: \t\u{E9}t\u{E9} d\u{2019}\u{E9}t\u{E9}\t \r\nx-name:\r\nA-B:c: d\r\n\r\n").requests.first)
        #expect(request.headers.fields.map(\.name) == ["Host", "X-Name", "x-name", "A-B"])
        #expect(request.headers.values("X-NAME") == ["\u{E9}t\u{E9} d\u{2019}\u{E9}t\u{E9}", ""])
        #expect(request.headers["a-b"] == "c: d")
    }

    @Test func queryDecodesPlusAsSpaceAndEncodedPlusAsPlus() throws {
        let request = try #require(parseAll("GET /?a=1+2%2B3&flag HTTP/1.1\r\nHost: h\r\n\r\n").requests.first)
        #expect(request.query == ["a": "1 2+3", "flag": ""])
    }

    @Test func pathStaysPercentEncoded() throws {
        let request = try #require(parseAll("GET /static/a%20b.js HTTP/1.1\r\nHost: h\r\n\r\n").requests.first)
        #expect(request.path == "/static/a%20b.js")
    }

    @Test func absoluteFormTargetYieldsItsPath() throws {
        let request = try #require(parseAll("GET http://example.com/ws?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n").requests.first)
        #expect(request.path == "/ws")
        #expect(request.query == ["x": "1"])
        let bare = try #require(parseAll("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n").requests.first)
        #expect(bare.path == "/")
    }

    @Test func asteriskFormIsAccepted() {
        #expect(parseAll("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").requests.first?.target == "*")
    }

    @Test func invalidQueryEncodingIs400() {
        #expect(errorStatus("GET /?a=%zz HTTP/1.1\r\nHost: h\r\n\r\n") == 400)
        #expect(errorStatus("GET /?a=%ff HTTP/1.1\r\nHost: h\r\n\r\n") == 400) // not UTF-8
    }

    @Test func http10NeedsNoHost() throws {
        let request = try #require(parseAll("GET / HTTP/1.0\r\n\r\n").requests.first)
        #expect(request.versionMinor == 0)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n", false),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
    ])
    func keepAliveFollowsVersionAndConnection(text: String, expected: Bool) throws {
        let request = try #require(parseAll(text).requests.first)
        #expect(request.keepAlive == expected)
    }

    @Test func upgradeRequestIsRecognised() throws {
        let request = try #require(parseAll("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n").requests.first)
        #expect(request.isUpgradeRequest)
        let plain = try #require(parseAll("GET /ws HTTP/1.1\r\nHost: h\r\n\r\n").requests.first)
        #expect(!plain.isUpgradeRequest)
    }

    // MARK: request line

    @Test(arguments: [
        "GET /  HTTP/1.1\r\nHost: h\r\n\r\n",       // two spaces
        "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",       // trailing space
        " GET / HTTP/1.1\r\nHost: h\r\n\r\n",       // leading space
        "GET /\r\nHost: h\r\n\r\n",                 // HTTP/0.9 style
        "GET / FTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.x\r\nHost: h\r\n\r\n",
        "GET / http/1.1\r\nHost: h\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",        // method not a token
        "GET a HTTP/1.1\r\nHost: h\r\n\r\n",         // target not origin-form
        "GET /\u{7F} HTTP/1.1\r\nHost: h\r\n\r\n",   // control in target
        "GET /é HTTP/1.1\r\nHost: h\r\n\r\n",        // raw non-ASCII in target
        "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
    ])
    func malformedRequestLineIs400(text: String) {
        #expect(errorStatus(text) == 400)
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/1.2", "HTTP/3", "HTTP/0.9", "HTTP/2"])
    func otherHTTPVersionsAre505(version: String) {
        #expect(errorStatus("GET / \(version)\r\nHost: h\r\n\r\n") == 505)
    }

    @Test func requestLineOverTheLimitIs414WithoutWaitingForCRLF() {
        var parser = HTTPRequestParser()
        parser.feed(bytes("GET /" + String(repeating: "a", count: 8192 - 5)))   // exactly 8192 bytes
        #expect(throws: Never.self) { try parser.nextRequest() }
        parser.feed(bytes("a"))                                              // 8193: over, no CRLF yet
        #expect(throws: HTTPError(status: 414, reason: "request line too long")) { try parser.nextRequest() }
    }

    /// Regression: limits used to be checked only after scanning everything fed, so a long line
    /// fed at once reached its bare LF (400) while the same bytes fed in pieces gave 414.
    @Test func limitIsJudgedAtTheByteThatPassesItWhateverTheFeeds() {
        let input = bytes("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\nHost: h\r\n\r\n")
        #expect(parseAll(input).error?.status == 414)
        #expect(parseAll(input, chunkSize: 1000).error?.status == 414)
    }

    @Test func requestLineOfExactlyTheLimitIsAccepted() {
        let target = "/" + String(repeating: "a", count: 8192 - "GET  HTTP/1.1".count - 1)
        let line = "GET \(target) HTTP/1.1"
        #expect(line.utf8.count == 8192)
        #expect(parseAll(line + "\r\nHost: h\r\n\r\n").requests.count == 1)
        #expect(errorStatus("GET \(target)a HTTP/1.1\r\nHost: h\r\n\r\n") == 414)
    }

    @Test func leadingEmptyLinesAreSkipped() {
        #expect(parseAll("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").requests.count == 1)
    }

    @Test func bareLineFeedsAndCarriageReturnsAre400() {
        #expect(errorStatus("GET / HTTP/1.1\nHost: h\n\n") == 400)
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\n\r\n") == 400)
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n") == 400)
        #expect(errorStatus("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") == 400)
    }

    /// Regression: a CR that ended one feed used to be skipped by the next scan, so the error
    /// (and potentially the outcome) depended on how the bytes were split.
    @Test func bareCarriageReturnSplitAcrossFeedsIsTheSameError() {
        let input = bytes("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n")
        let whole = parseAll(input).error
        #expect(whole == HTTPError(status: 400, reason: "bare CR in request head"))
        for chunk in 1...8 {
            #expect(parseAll(input, chunkSize: chunk).error == whole)
        }
    }

    // MARK: headers

    @Test func obsFoldIs400() {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n") == 400)
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n") == 400)
    }

    @Test(arguments: [
        "Host : h",          // whitespace before colon
        "Ho st: h",
        ": h",               // empty name
        "Host h",            // no colon
        "Hö: h",             // non-token name
        "X-A: a\u{01}b",     // control byte in value
        "X-A: a\u{7F}",
    ])
    func malformedHeaderLineIs400(line: String) {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\n\(line)\r\n\r\n") == 400)
    }

    @Test func nonUTF8HeaderValueIs400() {
        var input = bytes("GET / HTTP/1.1\r\nHost: h\r\nX-A: ")
        input += [0xFF, 0xFE]
        input += bytes("\r\n\r\n")
        #expect(parseAll(input).error?.status == 400)
    }

    @Test func headerValuesAreTrimmedAndTabsInsideKept() throws {
        let request = try #require(parseAll("GET / HTTP/1.1\r\nHost: h\r\nX-A: \t a\tb \t\r\nX-Empty:\r\n\r\n").requests.first)
        #expect(request.headers["x-a"] == "a\tb")
        #expect(request.headers["x-empty"] == "")
    }

    @Test func missingOrRepeatedHostOnHTTP11Is400() {
        #expect(errorStatus("GET / HTTP/1.1\r\n\r\n") == 400)
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400)
    }

    @Test func tooManyHeaderFieldsIs431() {
        let fields99 = (0..<99).map { "X-\($0): v\r\n" }.joined()
        #expect(parseAll("GET / HTTP/1.1\r\nHost: h\r\n" + fields99 + "\r\n").requests.count == 1) // 100 fields
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\n" + fields99 + "X-Last: v\r\n\r\n") == 431)  // 101
    }

    @Test func headerBlockOverTheLimitIs431BeforeItEnds() {
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 100
        var parser = HTTPRequestParser(limits: limits)
        parser.feed(bytes("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "v", count: 200)))
        #expect(throws: HTTPError.self) { try parser.nextRequest() }
        do { _ = try parser.nextRequest() } catch { #expect(error.status == 431) }
    }

    @Test func headerBlockOfExactlyTheLimitIsAccepted() {
        var limits = HTTPLimits()
        let block = "Host: h\r\nX-Pad: " + String(repeating: "p", count: 30) + "\r\n"
        limits.maxHeaderBytes = block.utf8.count
        #expect(parseAll("GET / HTTP/1.1\r\n" + block + "\r\n", limits: limits).requests.count == 1)
        limits.maxHeaderBytes -= 1
        #expect(errorStatus("GET / HTTP/1.1\r\n" + block + "\r\n", limits: limits) == 431)
    }

    @Test func defaultHeaderLimitIs64KiB() {
        let big = "X-Big: " + String(repeating: "v", count: 70_000) + "\r\n"
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\n" + big + "\r\n") == 431)
    }

    // MARK: bodies

    private var fillsLimits: HTTPLimits {
        var limits = HTTPLimits()
        limits.allowBody(method: "POST", path: "/api/fills", maxBytes: 4 << 20)
        return limits
    }

    @Test func bodyIsReadForAnAllowedRoute() throws {
        let request = try #require(parseAll("POST /api/fills HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\n[1,2,3]", limits: fillsLimits).requests.first)
        #expect(request.body == bytes("[1,2,3]"))
    }

    @Test func bodyOnAnyOtherRouteIs413() {
        #expect(errorStatus("POST /api/other HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n[]", limits: fillsLimits) == 413)
        #expect(errorStatus("PUT /api/fills HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n[]", limits: fillsLimits) == 413)
    }

    @Test func getWithABodyIs413() {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx") == 413)
    }

    @Test func contentLengthZeroIsNoBody() {
        #expect(parseAll("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").requests.count == 1)
    }

    @Test func oversizeBodyIs413FromTheHeadAlone() {
        var parser = HTTPRequestParser(limits: fillsLimits)
        parser.feed(bytes("POST /api/fills HTTP/1.1\r\nHost: h\r\nContent-Length: 4194305\r\n\r\n"))
        #expect(throws: HTTPError(status: 413, reason: "request body too large")) { try parser.nextRequest() }
    }

    @Test func bodyAtTheAllowedLimitIsAccepted() {
        var limits = HTTPLimits()
        limits.allowBody(method: "POST", path: "/p", maxBytes: 3)
        #expect(parseAll("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", limits: limits).requests.count == 1)
        #expect(errorStatus("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd", limits: limits) == 413)
    }

    @Test func laterAllowanceForTheSameRouteReplacesTheEarlier() {
        var limits = HTTPLimits()
        limits.allowBody(method: "POST", path: "/p", maxBytes: 3)
        limits.allowBody(method: "POST", path: "/p", maxBytes: 10)
        #expect(limits.maxBodyBytes(method: "POST", path: "/p") == 10)
        #expect(limits.bodyAllowances.count == 1)
        #expect(limits.maxBodyBytes(method: "GET", path: "/p") == 0)
    }

    @Test func transferEncodingIs501AndWithContentLength400() {
        #expect(errorStatus("POST /api/fills HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", limits: fillsLimits) == 501)
        #expect(errorStatus("POST /api/fills HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", limits: fillsLimits) == 400)
    }

    @Test(arguments: ["abc", "-1", "+5", "1 2", "", "0x10", "99999999999999999999", "3,4", "1.0"])
    func invalidContentLengthIs400(value: String) {
        #expect(errorStatus("POST /api/fills HTTP/1.1\r\nHost: h\r\nContent-Length: \(value)\r\n\r\n", limits: fillsLimits) == 400)
    }

    @Test func differingRepeatedContentLengthsAre400ButEqualOnesAreOne() throws {
        #expect(errorStatus("POST /api/fills HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", limits: fillsLimits) == 400)
        let same = parseAll("POST /api/fills HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc", limits: fillsLimits)
        #expect(same.requests.first?.body == bytes("abc"))
    }

    @Test func bodyArrivingLaterCompletesTheRequest() throws {
        var parser = HTTPRequestParser(limits: fillsLimits)
        parser.feed(bytes("POST /api/fills HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab"))
        #expect(try parser.nextRequest() == nil)
        parser.feed(bytes("cdeGET"))
        let request = try #require(try parser.nextRequest())
        #expect(request.body == bytes("abcde"))
        #expect(parser.bufferedByteCount == 3)
    }

    @Test func expectContinueIsOwedOnceWhileTheBodyIsMissing() throws {
        var parser = HTTPRequestParser(limits: fillsLimits)
        do { let owed = parser.takeContinueRequest(); #expect(!owed) }
        parser.feed(bytes("POST /api/fills HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n"))
        #expect(try parser.nextRequest() == nil)
        do { let owed = parser.takeContinueRequest(); #expect(owed) }
        do { let owed = parser.takeContinueRequest(); #expect(!owed) }
        parser.feed(bytes("[]"))
        #expect(try parser.nextRequest()?.body == bytes("[]"))
        #expect(String(decoding: HTTPResponse.continueHead, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
    }

    @Test func expectContinueWithTheBodyAlreadyHereNeedsNoInterimResponse() throws {
        var parser = HTTPRequestParser(limits: fillsLimits)
        parser.feed(bytes("POST /api/fills HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n[]"))
        #expect(try parser.nextRequest() != nil)
        do { let owed = parser.takeContinueRequest(); #expect(!owed) }
    }

    @Test func expectContinueWithAnOversizeBodyIs413() {
        #expect(errorStatus("POST /other HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", limits: fillsLimits) == 413)
    }

    @Test func unknownExpectationIs417() {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n") == 417)
    }

    @Test func postWithoutContentLengthHasAnEmptyBody() throws {
        let request = try #require(parseAll("POST /api/fills HTTP/1.1\r\nHost: h\r\n\r\n", limits: fillsLimits).requests.first)
        #expect(request.body.isEmpty)
    }

    // MARK: streams

    @Test func pipelinedRequestsComeOutOneByOne() throws {
        var parser = HTTPRequestParser(limits: fillsLimits)
        parser.feed(bytes("GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /api/fills HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n[]HEAD /c HTTP/1.1\r\nHost: h\r\n\r\nGET /d"))
        #expect(try parser.nextRequest()?.path == "/a")
        let post = try #require(try parser.nextRequest())
        #expect(post.path == "/api/fills" && post.body == bytes("[]"))
        #expect(try parser.nextRequest()?.method == "HEAD")
        #expect(try parser.nextRequest() == nil)
        #expect(parser.bufferedByteCount == 6)
    }

    @Test func byteAtATimeFeedingGivesTheSameRequests() {
        let text = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\nPOST /api/fills HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET /b HTTP/1.0\r\n\r\n"
        let whole = parseAll(bytes(text), limits: fillsLimits)
        let single = parseAll(bytes(text), limits: fillsLimits, chunkSize: 1)
        #expect(whole.error == nil && single.error == nil)
        #expect(single.requests.map(\.target) == ["/a?x=1", "/api/fills", "/b"])
        #expect(single.requests.map(\.body) == whole.requests.map(\.body))
        #expect(single.requests.map { $0.headers.fields.map(\.value) } == whole.requests.map { $0.headers.fields.map(\.value) })
    }

    @Test func bytesAfterAnUpgradeAreHandedOver() throws {
        var parser = HTTPRequestParser()
        parser.feed(bytes("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n") + [0x81, 0x85, 1, 2])
        let request = try #require(try parser.nextRequest())
        #expect(request.isUpgradeRequest)
        #expect(parser.bufferedByteCount == 4)
        #expect(parser.takeBufferedBytes() == [0x81, 0x85, 1, 2])
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func nonContiguousInputIsParsedToo() throws {
        var parser = HTTPRequestParser()
        parser.feed(bytes("GET /lazy HTTP/1.1\r\nHost: h\r\n\r\n").lazy.map { $0 })
        #expect(try parser.nextRequest()?.path == "/lazy")
    }

    @Test func parserStaysFailedAfterAnError() {
        var parser = HTTPRequestParser()
        parser.feed(bytes("GET / HTTP/2.0\r\n\r\n"))
        #expect(throws: HTTPError.self) { try parser.nextRequest() }
        parser.feed(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(throws: HTTPError(status: 505, reason: "HTTP version not supported")) { try parser.nextRequest() }
    }

    @Test func longStreamsCompactWithoutLosingBytes() throws {
        var parser = HTTPRequestParser()
        let one = bytes("GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
        var count = 0
        for _ in 0..<500 {
            parser.feed(one + one.prefix(7))
            while try parser.nextRequest() != nil { count += 1 }
            parser.feed(one.dropFirst(7))
        }
        while try parser.nextRequest() != nil { count += 1 }
        #expect(count == 1000)
        #expect(parser.bufferedByteCount == 0)
    }

    @Test(arguments: 0..<64)
    func garbageIs400NotACrash(seed: Int) {
        var generator = SeededRandom(seed: UInt64(seed))
        let input = (0..<(seed * 37 % 300 + 1)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let result = parseAll(input)
        if let error = result.error { #expect((400...599).contains(error.status)) }
        #expect(result.requests.isEmpty)
    }
}
