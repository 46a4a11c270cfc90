/// One parsed request: head and the whole body (bodies are bounded by `HTTPLimits`).
public struct HTTPRequest: Sendable {
    public var method: String
    /// The raw request-target, exactly as sent.
    public var target: String
    /// The target before `?`, still percent-encoded (see `StaticPath` for the decoded form).
    /// For an absolute-form target (`http://host/p?q`) this is the path part (`/p`).
    public var path: String
    /// Percent-decoded query parameters, `+` read as a space; a repeated name keeps the last value.
    public var query: [String: String]
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    public var versionMinor: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    /// Builds a request from its parts; `path` and `query` are derived from `target`
    /// (a query that does not decode is left empty here; the parser rejects it with 400 instead).
    public init(method: String, target: String, versionMinor: Int = 1,
                headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.versionMinor = versionMinor
        self.headers = headers
        self.body = body
        let parts = RequestTarget.split(target)
        self.path = parts.path
        self.query = parts.query.flatMap(RequestTarget.decodeQuery) ?? [:]
    }

    /// HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0 only with `keep-alive`.
    public var keepAlive: Bool {
        let connection = headers.tokens("connection")
        if connection.contains("close") { return false }
        return versionMinor >= 1 || connection.contains("keep-alive")
    }

    /// True when the client asked to switch protocols (`Connection: upgrade` + `Upgrade`).
    public var isUpgradeRequest: Bool {
        headers.tokens("connection").contains("upgrade") && headers["upgrade"] != nil
    }
}

enum RequestTarget {
    /// Splits a request-target into path and raw query (without `?`).
    static func split(_ target: String) -> (path: String, query: Substring?) {
        var rest = Substring(target)
        // absolute-form: drop scheme and authority, keep the path.
        for scheme in ["http://", "https://"] where asciiLowercased(rest.prefix(scheme.count)) == scheme {
            rest = rest.dropFirst(scheme.count)
            if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                rest = rest[slash...]
            } else {
                rest = ""
            }
            if !rest.hasPrefix("/") { rest = "/" + rest }
            break
        }
        if let mark = rest.firstIndex(of: "?") {
            return (String(rest[..<mark]), rest[rest.index(after: mark)...])
        }
        return (String(rest), nil)
    }

    /// `a=1&b=x+y&c` → ["a": "1", "b": "x y", "c": ""]; nil if any part does not decode to UTF-8.
    static func decodeQuery(_ query: Substring) -> [String: String]? {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = pair.firstIndex(of: "=") {
                name = pair[..<equals]
                value = pair[pair.index(after: equals)...]
            } else {
                name = pair
                value = ""
            }
            guard let nameBytes = percentDecode(name, plusAsSpace: true),
                  let valueBytes = percentDecode(value, plusAsSpace: true),
                  let decodedName = String(validating: nameBytes, as: UTF8.self),
                  let decodedValue = String(validating: valueBytes, as: UTF8.self)
            else { return nil }
            result[decodedName] = decodedValue
        }
        return result
    }
}
