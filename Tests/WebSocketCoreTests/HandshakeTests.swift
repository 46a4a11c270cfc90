import HTTPCore
import Testing
@testable import WebSocketCore

@Suite struct HandshakeTests {
    /// The RFC 6455 §1.3 example request.
    private func request(_ extra: [(String, String)] = [], removing: Set<String> = [], method: String = "GET",
                         versionMinor: Int = 1) -> HTTPRequest {
        var fields: [(name: String, value: String)] = [
            ("Host", "server.example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ]
        fields.removeAll { removing.contains($0.name) }
        fields += extra.map { (name: $0.0, value: $0.1) }
        return HTTPRequest(method: method, target: "/ws", versionMinor: versionMinor, headers: HTTPHeaders(fields))
    }

    private func status(_ result: Result<Handshake.Accepted, Handshake.Rejection>) -> Int {
        switch result {
        case .success(let accepted): accepted.response.status
        case .failure(let rejection): rejection.response.status
        }
    }

    @Test func acceptValueMatchesTheRFCExample() {
        #expect(Handshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    /// A 24-character key (every valid one) hashes with the GUID as 60 bytes; other lengths
    /// take the same path with other paddings.
    @Test func acceptValueIsBase64OfTheSHA1OfKeyAndGUID() {
        for key in ["", "a", "dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAA==", String(repeating: "k", count: 30)] {
            let expected = Base64.encode(SHA1Digest.digest(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
            #expect(Handshake.acceptValue(forKey: key) == expected)
        }
    }

    @Test func acceptsTheRFCRequestWith101() throws {
        let accepted = try Handshake.accept(request()).get()
        #expect(accepted.key == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(accepted.subprotocol == nil)
        #expect(accepted.response.status == 101)
        #expect(accepted.response.headers["upgrade"] == "websocket")
        #expect(accepted.response.headers["connection"] == "Upgrade")
        #expect(accepted.response.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(accepted.response.headers["sec-websocket-protocol"] == nil)
        let encoded = String(decoding: accepted.response.encode(keepAlive: true), as: UTF8.self)
        #expect(encoded == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    }

    @Test func headerTokensAreMatchedCaseInsensitivelyAmongOthers() {
        let varied = request([("Connection", "keep-alive, UPGRADE"), ("Upgrade", "WebSocket")], removing: ["Connection", "Upgrade"])
        #expect(status(Handshake.accept(varied)) == 101)
    }

    @Test(arguments: ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key"])
    func missingRequiredHeaderIs400(name: String) {
        #expect(status(Handshake.accept(request(removing: [name]))) == 400)
    }

    @Test func wrongMethodOrVersionIs400() {
        #expect(status(Handshake.accept(request(method: "POST"))) == 400)
        #expect(status(Handshake.accept(request(versionMinor: 0))) == 400)
    }

    @Test func upgradeToAnotherProtocolIs400() {
        #expect(status(Handshake.accept(request([("Upgrade", "h2c")], removing: ["Upgrade"]))) == 400)
        #expect(status(Handshake.accept(request([("Connection", "keep-alive")], removing: ["Connection"]))) == 400)
    }

    @Test(arguments: [
        "dGhlIHNhbXBsZSBub25jZQ",          // no padding
        "dGhlIHNhbXBsZSBub25jZQ=",         // short padding
        "dGhlIHNhbXBsZSBub25jZXg=",        // 17 bytes
        "dGhlIHNhbXBsZSBub25j",            // 15 bytes
        "dGhlIHNhbXBsZSBub25jZR==",        // non-zero unused bits
        "dGhlIHNhbXBsZSBub2!jZQ==",        // not base64
        "",
    ])
    func keyThatIsNotBase64Of16BytesIs400(key: String) {
        #expect(status(Handshake.accept(request([("Sec-WebSocket-Key", key)], removing: ["Sec-WebSocket-Key"]))) == 400)
    }

    @Test func twoKeysAre400() {
        #expect(status(Handshake.accept(request([("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]))) == 400)
    }

    @Test(arguments: [["8"], ["14"], ["13, 8"], []])
    func wrongOrMissingVersionIs426WithTheSupportedVersion(versions: [String]) throws {
        let result = Handshake.accept(request(versions.map { ("Sec-WebSocket-Version", $0) }, removing: ["Sec-WebSocket-Version"]))
        guard case .failure(let rejection) = result else { Issue.record("accepted"); return }
        #expect(rejection.response.status == 426)
        #expect(rejection.response.headers["sec-websocket-version"] == "13")
    }

    @Test func refusedOriginIs403AndTheOriginIsPassedThrough() {
        let withOrigin = request([("Origin", "https://evil.example")])
        #expect(status(Handshake.accept(withOrigin, allowOrigin: { $0 == "https://desk.example" })) == 403)
        #expect(status(Handshake.accept(withOrigin, allowOrigin: { $0 == "https://evil.example" })) == 101)
        #expect(status(Handshake.accept(request(), allowOrigin: { $0 == nil })) == 101)
    }

    @Test func subprotocolIsChosenFromTheOfferedListWithCaseKept() throws {
        let offering = request([("Sec-WebSocket-Protocol", "ladder.v2, Ladder.V1"), ("Sec-WebSocket-Protocol", "chat")])
        var seen: [String] = []
        let accepted = try Handshake.accept(offering, chooseSubprotocol: { offered in
            seen = offered
            return "Ladder.V1"
        }).get()
        #expect(seen == ["ladder.v2", "Ladder.V1", "chat"])
        #expect(accepted.subprotocol == "Ladder.V1")
        #expect(accepted.response.headers["sec-websocket-protocol"] == "Ladder.V1")
    }

    @Test func aSubprotocolThatWasNotOfferedIsIgnored() throws {
        let offering = request([("Sec-WebSocket-Protocol", "a")])
        let accepted = try Handshake.accept(offering, chooseSubprotocol: { _ in "b" }).get()
        #expect(accepted.subprotocol == nil)
        let none = try Handshake.accept(request(), chooseSubprotocol: { _ in "b" }).get()
        #expect(none.subprotocol == nil)
    }

    @Test func parsedRequestFromBytesIsAccepted() throws {
        var parser = HTTPRequestParser()
        parser.feed(Array("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        let parsed = try #require(try parser.nextRequest())
        let accepted = try Handshake.accept(parsed, chooseSubprotocol: { $0.last }).get()
        #expect(accepted.subprotocol == "superchat")
    }

    @Test func base64RoundTripsEveryLength() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm9v=mFy") == nil)
    }
}
