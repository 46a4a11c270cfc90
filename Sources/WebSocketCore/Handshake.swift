import HTTPCore

/// The server side of the opening handshake (RFC 6455 §4.2), as pure functions of a parsed request.
public enum Handshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `base64(SHA-1(key + GUID))`; the RFC's example key gives "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
    public static func acceptValue(forKey key: String) -> String {
        acceptValue(forKeyBytes: Array(key.utf8)[...])
    }

    private static let guidBytes = Array(guid.utf8)

    /// `acceptValue(forKey:)` on the key's bytes as received, hashed after it with the GUID
    /// (no concatenated string).
    static func acceptValue(forKeyBytes key: ArraySlice<UInt8>) -> String {
        var hasher = SHA1Digest()
        hasher.update(key)
        hasher.update(guidBytes[...])
        return Base64.encode(hasher.finish())
    }

    public struct Accepted: Sendable {
        public var key: String
        public var subprotocol: String?
        /// permessage-deflate as agreed (nil: declined or not offered).
        public var deflate: DeflateParameters?
        /// 101 with Upgrade, Connection, Sec-WebSocket-Accept[, Sec-WebSocket-Protocol].
        public var response: HTTPResponse
    }

    /// A refused handshake and the response to send before closing: 400 with a one-line reason,
    /// 426 with `Sec-WebSocket-Version: 13` for a missing or wrong version, 403 for a refused Origin.
    public struct Rejection: Error, Sendable {
        public var response: HTTPResponse
        public var reason: String
    }

    /// Checks RFC 6455 §4.2.1: GET, HTTP/1.1, Host, `Upgrade` containing `websocket`, `Connection`
    /// containing `upgrade` (among other tokens), a `Sec-WebSocket-Key` that is base64 of exactly
    /// 16 bytes, `Sec-WebSocket-Version: 13`; then the Origin (`allowOrigin` gets the header or nil)
    /// and the subprotocol (`chooseSubprotocol` gets the offered names in order, case kept; a name
    /// that was not offered is ignored). With `offerDeflate`, the first acceptable
    /// permessage-deflate offer is agreed (`PerMessageDeflate.negotiate`) and answered in
    /// `Sec-WebSocket-Extensions`.
    public static func accept(_ request: HTTPRequest,
                              allowOrigin: (String?) -> Bool = { _ in true },
                              chooseSubprotocol: ([String]) -> String? = { _ in nil },
                              offerDeflate: Bool = false) -> Result<Accepted, Rejection> {
        func reject(_ status: Int, _ reason: String) -> Result<Accepted, Rejection> {
            var response = HTTPResponse.text(status, reason)
            if status == 426 {
                response.headers.add("Sec-WebSocket-Version", "13")
                response.headers.add("Upgrade", "websocket")
            }
            return .failure(Rejection(response: response, reason: reason))
        }
        // Header checks on the fields' bytes: only the key, the accept value and what the
        // callbacks are given become strings.
        let headers = request.headers
        guard request.method == "GET" else { return reject(400, "WebSocket handshake must use GET") }
        guard request.versionMinor >= 1 else { return reject(400, "WebSocket handshake needs HTTP/1.1") }
        guard headers.contains("host") else { return reject(400, "missing Host header") }
        guard headers.containsToken("websocket", in: "upgrade") else { return reject(400, "Upgrade header must name websocket") }
        guard headers.containsToken("upgrade", in: "connection") else { return reject(400, "Connection header must contain upgrade") }
        guard let key = headers.onlyValueBytes("sec-websocket-key"), Base64.decode(bytes: key)?.count == 16 else {
            return reject(400, "Sec-WebSocket-Key must be base64 of 16 bytes")
        }
        guard headers.onlyValueBytes("sec-websocket-version")?.elementsEqual("13".utf8) == true else {
            return reject(426, "unsupported WebSocket version; use 13")
        }
        guard allowOrigin(headers["origin"]) else { return reject(403, "origin not allowed") }

        var subprotocol: String?
        let protocolValues = headers.values("sec-websocket-protocol")
        if !protocolValues.isEmpty {
            let offered = protocolValues.flatMap { value in
                value.split(separator: ",").map { String($0.filter { $0 != " " && $0 != "\t" }) }.filter { !$0.isEmpty }
            }
            if !offered.isEmpty, let chosen = chooseSubprotocol(offered), offered.contains(chosen) {
                subprotocol = chosen
            }
        }

        var responseHeaders = HTTPHeaders(reservingFields: 5, bytes: 128)
        responseHeaders.add("Upgrade", "websocket")
        responseHeaders.add("Connection", "Upgrade")
        responseHeaders.add("Sec-WebSocket-Accept", acceptValue(forKeyBytes: key))
        if let subprotocol { responseHeaders.add("Sec-WebSocket-Protocol", subprotocol) }
        let deflate = offerDeflate ? PerMessageDeflate.negotiate(headers.values("sec-websocket-extensions")) : nil
        if let deflate { responseHeaders.add("Sec-WebSocket-Extensions", deflate.responseHeaderValue) }
        return .success(Accepted(key: String(decoding: key, as: UTF8.self), subprotocol: subprotocol, deflate: deflate,
                                 response: HTTPResponse(status: 101, headers: responseHeaders)))
    }
}
