/// Incremental HTTP/1.x request parser (sans-I/O, like h11's server side): `feed` bytes as they
/// arrive, call `nextRequest()` until it returns nil. Pipelined requests come out one by one.
///
/// Rules, each answered with the status to send:
/// - Lines end with CRLF only: a bare LF or bare CR is 400 (strict, so no two parsers in a chain
///   can disagree about where a head ends). Empty lines before a request line are skipped.
/// - Request line `METHOD SP target SP HTTP/1.x`; another HTTP version is 505, anything else 400;
///   a request line longer than `maxRequestLine` is 414 as soon as the limit is passed.
/// - More than `maxHeaderBytes` of header block or `maxHeaderCount` fields is 431; obs-fold,
///   whitespace before the colon, a non-token name, control bytes or non-UTF-8 in a value are 400.
/// - HTTP/1.1 without exactly one Host is 400. Bodies are Content-Length only: Transfer-Encoding
///   is 501 (400 together with Content-Length); a malformed or conflicting Content-Length is 400;
///   a length above `limits.maxBodyBytes(method:path:)` is 413 before any body byte is read.
///   A request without Content-Length has no body (RFC 9112 §6.3), whatever its method.
/// - `Expect: 100-continue` is honoured through `takeContinueRequest()`; any other expectation is 417.
/// - After an error the parser stays failed and rethrows it: the caller answers and closes.
public struct HTTPRequestParser: Sendable {
    public var limits: HTTPLimits

    private var buffer: [UInt8] = []
    /// First byte not yet consumed by a returned request.
    private var readIndex = 0
    /// Where the search for the end of the head resumes, so byte-at-a-time feeding stays linear.
    private var scanIndex = 0
    /// Index of the CR ending the request line, once seen.
    private var requestLineEnd: Int?
    private var headerLineCount = 0
    /// A head already parsed whose body has not fully arrived.
    private var pendingHead: HTTPRequest?
    private var pendingBodyLength = 0
    /// Set when a pending head asked for `Expect: 100-continue` and nobody has answered it yet.
    private var continueOwed = false
    private var failure: HTTPError?

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    public mutating func feed(_ bytes: some Collection<UInt8>) {
        // Called generically from other modules: copy contiguous input in one go instead of
        // element by element through the Collection witness.
        if bytes.withContiguousStorageIfAvailable({ buffer.append(contentsOf: $0) }) == nil {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Bytes fed but not consumed by a returned request. After an Upgrade request these are the
    /// first bytes of the new protocol.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// The head of a request whose body has not fully arrived, so the caller can refuse it (auth,
    /// Host, budget) before reading the body; nil otherwise.
    public var headAwaitingBody: HTTPRequest? { pendingHead }

    /// The Content-Length of `headAwaitingBody` (0 when there is none).
    public var awaitedBodyLength: Int { pendingHead == nil ? 0 : pendingBodyLength }

    /// Hands over (and forgets) every unconsumed byte, e.g. to a `WebSocketConnection`. After an
    /// accepted Upgrade, call this instead of `nextRequest()`: the rest is no longer HTTP.
    public mutating func takeBufferedBytes() -> [UInt8] {
        let rest = Array(buffer[readIndex...])
        buffer.removeAll(keepingCapacity: false)
        readIndex = 0
        scanIndex = 0
        requestLineEnd = nil
        headerLineCount = 0
        pendingHead = nil
        pendingBodyLength = 0
        continueOwed = false
        return rest
    }

    /// True once per request whose head carried `Expect: 100-continue` while its body has not
    /// arrived: the caller then writes `HTTPResponse.continueHead` so the client (curl waits a
    /// second otherwise) sends the body. A body the limits refuse never gets here: that head
    /// already failed with 413, which is the answer RFC 9110 §10.1.1 wants instead of 100.
    public mutating func takeContinueRequest() -> Bool {
        guard continueOwed, pendingHead != nil else { return false }
        continueOwed = false
        return true
    }

    /// The next complete request, or nil when more bytes are needed.
    public mutating func nextRequest() throws(HTTPError) -> HTTPRequest? {
        if let failure { throw failure }
        do {
            return try parseNextRequest()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func parseNextRequest() throws(HTTPError) -> HTTPRequest? {
        if pendingHead == nil {
            guard let headEnd = try findHeadEnd() else {
                compact() // skipped empty lines must not pile up
                return nil
            }
            let head = try parseHead(buffer[readIndex..<headEnd])
            readIndex = headEnd + 4
            scanIndex = readIndex
            requestLineEnd = nil
            headerLineCount = 0
            if head.bodyLength == 0 {
                // No body to wait for (every GET and upgrade): returned as it is, without a trip
                // through `pendingHead` (copying a request in and out of an optional cost ~2,000
                // instructions).
                compact()
                return head.request
            }
            pendingHead = head.request
            pendingBodyLength = head.bodyLength
            continueOwed = head.bodyLength > 0 && head.request.headers.contains("expect")
        }
        guard var request = pendingHead, buffer.count - readIndex >= pendingBodyLength else { return nil }
        request.body = Array(buffer[readIndex..<readIndex + pendingBodyLength])
        readIndex += pendingBodyLength
        pendingHead = nil
        pendingBodyLength = 0
        continueOwed = false
        compact()
        return request
    }

    /// Drops consumed bytes once they dominate the buffer, so memory stays bounded without
    /// copying the buffer for every request.
    private mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
            scanIndex = 0
        } else if readIndex >= 4096 && readIndex * 2 >= buffer.count {
            buffer.removeFirst(readIndex)
            scanIndex -= readIndex
            requestLineEnd = requestLineEnd.map { $0 - readIndex }
            readIndex = 0
        }
    }

    /// Scans for CRLF CRLF, enforcing the line and size limits byte by byte as they arrive, so
    /// the outcome (request or error) never depends on how the input was split into `feed` calls.
    /// Returns the index of the CR that starts the final CRLF CRLF.
    private mutating func findHeadEnd() throws(HTTPError) -> Int? {
        if requestLineEnd == nil {
            // RFC 9112 §2.2: ignore empty lines before the request line.
            while buffer.count - readIndex >= 2, buffer[readIndex] == cr, buffer[readIndex + 1] == lf {
                readIndex += 2
            }
            scanIndex = max(scanIndex, readIndex)
        }
        var index = scanIndex
        let end = buffer.count
        while index < end {
            let byte = buffer[index]
            if byte == lf {
                guard index > readIndex, buffer[index - 1] == cr else { throw .badRequest("bare LF in request head") }
                if let lineEnd = requestLineEnd {
                    if buffer[index - 2] == lf, index - 3 >= lineEnd {
                        scanIndex = index + 1
                        return index - 3
                    }
                    headerLineCount += 1
                    if headerLineCount > limits.maxHeaderCount {
                        throw HTTPError(status: 431, reason: "too many header fields")
                    }
                    try checkHeaderBlockSize(through: index, lineEnd: lineEnd)
                } else {
                    requestLineEnd = index - 1
                }
            } else if byte == cr {
                // Decided only once the next byte is known: stop here and look again after the next feed.
                guard index + 1 < end else { break }
                if buffer[index + 1] != lf { throw .badRequest("bare CR in request head") }
            } else {
                // A run of ordinary bytes up to the next CR or LF: the limits only grow along it,
                // so its last byte passes one exactly when some byte of it does (the same error
                // as checking byte by byte, for a fraction of the work).
                let last = (buffer[index..<end].firstIndex { $0 == cr || $0 == lf } ?? end) - 1
                if let lineEnd = requestLineEnd {
                    try checkHeaderBlockSize(through: last, lineEnd: lineEnd)
                } else if last - readIndex + 1 > limits.maxRequestLine {
                    throw HTTPError(status: 414, reason: "request line too long")
                }
                index = last
            }
            index += 1
        }
        scanIndex = index
        return nil
    }

    /// The header block counts from after the request line's CRLF through each header's CRLF.
    private func checkHeaderBlockSize(through index: Int, lineEnd: Int) throws(HTTPError) {
        if index + 1 - (lineEnd + 2) > limits.maxHeaderBytes {
            throw HTTPError(status: 431, reason: "request header block too large")
        }
    }

    /// Parses a complete head in one pass over its bytes: lines are found in place, and header
    /// fields are copied into `HTTPHeaders`' byte storage (no `String` per name and value).
    /// Every rule is checked in the order the lines arrive, so the first problem is the one reported.
    private func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPError) -> (request: HTTPRequest, bodyLength: Int) {
        // `head` stops before the final CRLF CRLF, so every line but the last still ends in CR.
        let requestLineEnd = head.firstIndex(of: lf) ?? head.endIndex
        let requestLine = try RequestLine(parsing: head[..<(requestLineEnd == head.endIndex ? requestLineEnd : requestLineEnd - 1)])
        var headers = HTTPHeaders(reservingFields: headerLineCount, bytes: head.endIndex - requestLineEnd)
        var lineStart = requestLineEnd + 1
        while lineStart <= head.endIndex {
            let lineEnd = head[lineStart...].firstIndex(of: lf) ?? head.endIndex
            try addHeaderField(head[lineStart..<(lineEnd == head.endIndex ? lineEnd : lineEnd - 1)], to: &headers)
            lineStart = lineEnd + 1
        }

        let hosts = headers.count(of: "host")
        if requestLine.versionMinor >= 1 && hosts == 0 { throw .badRequest("missing Host header") }
        if hosts > 1 { throw .badRequest("more than one Host header") }

        // The only expectation defined is 100-continue (RFC 9110 §10.1.1); refuse any other.
        for field in headers.indices(of: "expect") {
            if !asciiCaseInsensitiveEqual(headers.valueBytes(at: field), "100-continue") {
                throw HTTPError(status: 417, reason: "unsupported expectation")
            }
        }
        let bodyLength = try Self.bodyLength(headers)
        let parts = RequestTarget.split(requestLine.target)
        guard let query = parts.query.map(RequestTarget.decodeQuery) ?? [:] else {
            throw .badRequest("query string is not valid percent-encoded UTF-8")
        }
        let request = HTTPRequest(method: requestLine.method, target: requestLine.target, path: parts.path, query: query,
                                  versionMinor: requestLine.versionMinor, headers: headers)
        if bodyLength > limits.maxBodyBytes(method: request.method, path: request.path) {
            throw HTTPError(status: 413, reason: "request body too large")
        }
        return (request, bodyLength)
    }

    /// Checks one header line and appends its field: a token name, a colon, the value with the
    /// spaces and tabs around it dropped; no control bytes and valid UTF-8 in the value.
    /// One pass over the name and one over the value, on a `Span` (every field of every request).
    private func addHeaderField(_ line: ArraySlice<UInt8>, to headers: inout HTTPHeaders) throws(HTTPError) {
        guard let first = line.first else { throw .badRequest("empty header line") }
        if first == sp || first == htab { throw .badRequest("obsolete line folding in header") }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .badRequest("header line without colon") }
        let name = line[..<colon]
        guard !name.isEmpty, Self.allTokenBytes(name.span) else { throw .badRequest("invalid header name") }
        let value = trimmingWhitespace(line[(colon + 1)...])
        let valueBytes = value.span
        var isASCII = true
        for index in 0..<valueBytes.count {
            let byte = valueBytes[index]
            if (byte < 0x20 && byte != htab) || byte == 0x7F { throw .badRequest("control character in header value") }
            if byte >= 0x80 { isASCII = false }
        }
        // ASCII is valid UTF-8: the validator runs only for values with other bytes.
        if !isASCII && String(validating: value, as: UTF8.self) == nil {
            throw .badRequest("header value is not UTF-8")
        }
        headers.add(name: name, value: value)
    }

    private static func allTokenBytes(_ bytes: Span<UInt8>) -> Bool {
        for index in 0..<bytes.count where !isTokenByte(bytes[index]) { return false }
        return true
    }

    private static func bodyLength(_ headers: HTTPHeaders) throws(HTTPError) -> Int {
        if headers.contains("transfer-encoding") {
            if headers.contains("content-length") { throw .badRequest("both Transfer-Encoding and Content-Length") }
            throw HTTPError(status: 501, reason: "Transfer-Encoding is not supported; send Content-Length")
        }
        var length: Int?
        // `Content-Length: 5, 5` and repeated identical fields are one length (RFC 9112 §6.3).
        for field in headers.indices(of: "content-length") {
            for item in headers.valueBytes(at: field).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let digits = trimmingWhitespace(item)
                guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy(isDigit) else { throw .badRequest("invalid Content-Length") }
                let parsed = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                if let length, length != parsed { throw .badRequest("conflicting Content-Length values") }
                length = parsed
            }
        }
        return length ?? 0
    }
}

/// `METHOD SP request-target SP HTTP-version`.
struct RequestLine {
    var method: String
    var target: String
    var versionMinor: Int

    init(parsing line: ArraySlice<UInt8>) throws(HTTPError) {
        // Exactly two spaces: three non-overlapping parts (split, without the arrays).
        guard let firstSpace = line.firstIndex(of: sp),
              let secondSpace = line[(firstSpace + 1)...].firstIndex(of: sp),
              !line[(secondSpace + 1)...].contains(sp)
        else { throw .badRequest("malformed request line") }
        let methodBytes = line[..<firstSpace]
        let targetBytes = line[(firstSpace + 1)..<secondSpace]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(isTokenByte) else { throw .badRequest("invalid method") }
        // Visible ASCII only: no spaces, controls or raw non-ASCII in a target.
        guard !targetBytes.isEmpty, targetBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .badRequest("invalid request target")
        }
        method = Self.method(methodBytes)
        target = String(decoding: targetBytes, as: UTF8.self)
        versionMinor = try Self.versionMinor(line[(secondSpace + 1)...])
        let first = targetBytes.first!
        if first != UInt8(ascii: "/") && !(first == UInt8(ascii: "*") && targetBytes.count == 1)
            && RequestTarget.absoluteFormSchemeLength(targetBytes) == nil {
            throw .badRequest("invalid request target")
        }
    }

    /// The common methods as string literals (no decoding, no allocation); any other token decoded.
    private static func method(_ bytes: ArraySlice<UInt8>) -> String {
        if bytes.elementsEqual("GET".utf8) { return "GET" }
        if bytes.elementsEqual("POST".utf8) { return "POST" }
        if bytes.elementsEqual("HEAD".utf8) { return "HEAD" }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func versionMinor(_ version: ArraySlice<UInt8>) throws(HTTPError) -> Int {
        guard version.count >= 6, version.starts(with: "HTTP/".utf8) else { throw .badRequest("malformed HTTP version") }
        let number = version.dropFirst(5)
        if number.elementsEqual("1.1".utf8) { return 1 }
        if number.elementsEqual("1.0".utf8) { return 0 }
        // Well-formed but another version (HTTP/2.0, HTTP/1.2, HTTP/3): a version problem, not garbage.
        let pieces = number.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if (1...2).contains(pieces.count), pieces.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(isDigit) }) {
            throw HTTPError(status: 505, reason: "HTTP version not supported")
        }
        throw .badRequest("malformed HTTP version")
    }
}

let cr = UInt8(ascii: "\r")
let lf = UInt8(ascii: "\n")
let sp = UInt8(ascii: " ")
let htab = UInt8(ascii: "\t")

func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

/// RFC 9110 `tchar`.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}
