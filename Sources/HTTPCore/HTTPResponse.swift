/// A response to encode. The encoder owns the framing headers: it always writes Content-Length
/// (the body's length, also when the body is left out for HEAD), except on 1xx and 204 where
/// RFC 9110 forbids it, and a Connection header unless the caller set one (a 101 carries
/// `Connection: Upgrade`). No Date header: this module has no clock; the server may add one.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `text/plain; charset=utf-8` with `message` and a newline as the body.
    public static func text(_ status: Int, _ message: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]),
                     body: Array((message + "\n").utf8))
    }

    /// `application/json` with `json` as the body, as given.
    public static func json(_ status: Int, _ json: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]),
                     body: Array(json.utf8))
    }

    /// The interim response that lets a client waiting on `Expect: 100-continue` send its body.
    public static let continueHead: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    public func encode(includeBody: Bool = true, keepAlive: Bool) -> [UInt8] {
        // Written as bytes, the header fields copied from their byte storage: every upgrade and
        // every API reply goes through here (`String` interpolation cost ~50,000 instructions a
        // response, a `String` per field ~10,000).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(96 + headers.storage.count + 4 * headers.count + (includeBody ? body.count : 0))
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: HTTPResponse.reasonPhrase(for: status).utf8)
        bytes.append(contentsOf: HTTPResponse.lineEnd)
        var hasConnection = false
        for field in 0..<headers.count {
            let name = headers.nameBytes(at: field)
            if asciiCaseInsensitiveEqual(name, "content-length") { continue }
            if asciiCaseInsensitiveEqual(name, "connection") { hasConnection = true }
            appendWithoutLineBreaks(name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(UInt8(ascii: " "))
            appendWithoutLineBreaks(headers.valueBytes(at: field), to: &bytes)
            bytes.append(contentsOf: HTTPResponse.lineEnd)
        }
        if !(100...199).contains(status) && status != 204 {
            bytes.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(body.count, to: &bytes)
            bytes.append(contentsOf: HTTPResponse.lineEnd)
        }
        if !hasConnection {
            bytes.append(contentsOf: (keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n").utf8)
        }
        bytes.append(contentsOf: HTTPResponse.lineEnd)
        if includeBody { bytes.append(contentsOf: body) }
        return bytes
    }

    private static let lineEnd: [UInt8] = [13, 10]

    /// The standard reason phrase (RFC 9110 §15), or "Unknown" for an unregistered code.
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 421: "Misdirected Request"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Unknown"
        }
    }
}

/// A header name or value as UTF-8 with CR and LF dropped, so no header can split the head
/// (response splitting). Works on bytes, not `Character`s ("\r\n" is one `Character`); both
/// are ASCII, so dropping their bytes never cuts a multi-byte character.
private func appendWithoutLineBreaks(_ text: ArraySlice<UInt8>, to bytes: inout [UInt8]) {
    // Nearly always there is nothing to drop: one copy of the whole run.
    guard text.contains(where: { $0 == 13 || $0 == 10 }) else {
        bytes.append(contentsOf: text)
        return
    }
    for byte in text where byte != 13 && byte != 10 { bytes.append(byte) }
}

/// `value` in decimal ASCII (`String(value).utf8` without the string).
private func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
    if value < 0 { bytes.append(UInt8(ascii: "-")) }
    var magnitude = value.magnitude
    var divisor: UInt = 1
    while magnitude / divisor >= 10 { divisor *= 10 }
    repeat {
        bytes.append(UInt8(ascii: "0") + UInt8(magnitude / divisor))
        magnitude %= divisor
        divisor /= 10
    } while divisor > 0
}
