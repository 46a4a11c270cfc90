import Testing
@testable import HTTPCore

@Suite struct ResponseTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func encodesStatusLineHeadersLengthAndConnection() {
        let response = HTTPResponse.json(200, #"{"ok":true}"#)
        #expect(text(response.encode(keepAlive: true)) ==
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n{\"ok\":true}")
    }

    @Test func textResponseIsOneLineOfPlainText() {
        let response = HTTPResponse.text(404, "not found")
        #expect(response.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(response.body == Array("not found\n".utf8))
        #expect(text(response.encode(keepAlive: false)).hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(text(response.encode(keepAlive: false)).contains("\r\nConnection: close\r\n"))
    }

    @Test func headResponseKeepsTheLengthOfTheBodyItOmits() {
        let encoded = text(HTTPResponse.text(200, "hello").encode(includeBody: false, keepAlive: true))
        #expect(encoded.hasSuffix("Content-Length: 6\r\nConnection: keep-alive\r\n\r\n"))
    }

    @Test func callerContentLengthIsReplacedByTheRealOne() {
        let response = HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Length", "999")]), body: [1, 2])
        let encoded = text(response.encode(keepAlive: true))
        #expect(encoded.contains("Content-Length: 2\r\n"))
        #expect(!encoded.contains("999"))
    }

    @Test func switchingProtocolsHasNoLengthAndKeepsItsConnectionHeader() {
        let response = HTTPResponse(status: 101, headers: HTTPHeaders([("Upgrade", "websocket"), ("Connection", "Upgrade")]))
        #expect(text(response.encode(keepAlive: true)) == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    }

    @Test func noContentHasNoLength() {
        #expect(!text(HTTPResponse(status: 204).encode(keepAlive: true)).contains("Content-Length"))
    }

    @Test func lineBreaksInHeaderValuesCannotSplitTheResponse() {
        let response = HTTPResponse(status: 200, headers: HTTPHeaders([("X-A", "a\r\nSet-Cookie: x")]))
        #expect(text(response.encode(keepAlive: true)).contains("X-A: aSet-Cookie: x\r\n"))
    }

    @Test(arguments: [(400, "Bad Request"), (405, "Method Not Allowed"), (411, "Length Required"), (413, "Content Too Large"),
                      (414, "URI Too Long"), (426, "Upgrade Required"), (431, "Request Header Fields Too Large"),
                      (501, "Not Implemented"), (503, "Service Unavailable"), (505, "HTTP Version Not Supported"), (299, "Unknown")])
    func reasonPhrases(status: Int, phrase: String) {
        #expect(HTTPResponse.reasonPhrase(for: status) == phrase)
    }

    @Test func errorResponseCarriesStatusAndReason() {
        let error = HTTPError(status: 431, reason: "too many header fields")
        #expect(error.response.status == 431)
        #expect(error.response.body == Array("too many header fields\n".utf8))
    }
}
