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
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(for: status))\r\n"
        var hasConnection = false
        for field in headers.fields {
            let name = asciiLowercased(field.name)
            if name == "content-length" { continue }
            if name == "connection" { hasConnection = true }
            head += "\(withoutLineBreaks(field.name)): \(withoutLineBreaks(field.value))\r\n"
        }
        if !(100...199).contains(status) && status != 204 {
            head += "Content-Length: \(body.count)\r\n"
        }
        if !hasConnection {
            head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if includeBody { bytes.append(contentsOf: body) }
        return bytes
    }

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

/// Never let a CR or LF in a header split the head (response splitting). Works on scalars:
/// "\r\n" is one `Character`, so a `Character` filter would let it through.
private func withoutLineBreaks(_ text: String) -> String {
    var scalars = String.UnicodeScalarView()
    scalars.append(contentsOf: text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    return String(scalars)
}
