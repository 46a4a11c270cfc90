/// Where the stream lives: `redis://[[user]:password@]host[:port][/db][?key=K&window=N]`
/// (`rediss://` for TLS, with `&ca=PATH` for a CA certificate other than the system's). `key`
/// names the stream (default `ladderwire:events`); `window` is how many entries it keeps
/// (`XADD … MAXLEN ~ N`, default 100,000); `timeout` how many seconds a reply may take before the
/// server counts as hung and the link reconnects (default 10).
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int = 6379
    public var tls = false
    public var username: String?
    public var password: String?
    public var database: Int?
    public var key = "ladderwire:events"
    public var window = 100_000
    /// PEM CA certificate to verify a `rediss://` server with (nil: the system's trust store).
    public var caFile: String?
    /// Seconds a command may wait for its reply before the server counts as hung (`timeout=`).
    public var replyTimeout: Double = 10

    public init(host: String, port: Int = 6379) { self.host = host; self.port = port }

    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws(ParseError) {
        func fail(_ why: String) -> ParseError { ParseError(description: "--stream \(Self.redact(text)): \(why)") }
        var rest: Substring
        if text.hasPrefix("redis://") { rest = text.dropFirst(8) }
        else if text.hasPrefix("rediss://") { rest = text.dropFirst(9); tls = true }
        else { throw fail("expected redis://HOST:PORT or rediss://HOST:PORT") }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") { query = rest[rest.index(after: mark)...]; rest = rest[..<mark] }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") { path = rest[rest.index(after: slash)...]; rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : percentDecoded(user)
                password = percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                password = percentDecoded(credentials)
            }
        }
        var hostPart = rest
        if hostPart.hasPrefix("[") {   // [::1]:6379
            guard let close = hostPart.firstIndex(of: "]") else { throw fail("unclosed [ in the host") }
            host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            hostPart = hostPart[hostPart.index(after: close)...]
            if hostPart.hasPrefix(":") {
                guard let value = Int(hostPart.dropFirst()), (1...65535).contains(value) else { throw fail("bad port") }
                port = value
            } else if !hostPart.isEmpty { throw fail("unexpected text after the host") }
        } else if let colon = hostPart.lastIndex(of: ":") {
            host = String(hostPart[..<colon])
            guard let value = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(value) else { throw fail("bad port") }
            port = value
        } else {
            host = String(hostPart)
        }
        guard !host.isEmpty else { throw fail("no host") }
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else { throw fail("database must be a number") }
            database = db
        }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = parts[0], value = parts.count > 1 ? percentDecoded(parts[1]) : ""
            switch name {
            case "key":
                guard !value.isEmpty else { throw fail("empty key") }
                key = value
            case "window":
                guard let count = Int(value), count >= 100 else { throw fail("window must be a whole number of at least 100 entries") }
                window = count
            case "timeout":
                guard let seconds = Int(value), (1...300).contains(seconds) else { throw fail("timeout must be 1 to 300 seconds") }
                replyTimeout = Double(seconds)
            case "ca":
                guard !value.isEmpty else { throw fail("empty ca") }
                caFile = value
            default: throw fail("unknown option '\(name)' (known: key, window, ca, timeout)")
            }
        }
    }

    /// The address for logs: never the password.
    public var description: String {
        let credentials = password == nil ? "" : "\(username ?? ""):***@"
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "rediss" : "redis")://\(credentials)\(hostText):\(port)\(database.map { "/\($0)" } ?? "") key \(key)"
    }

    static func redact(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let schemeLength = text.hasPrefix("rediss://") ? 9 : text.hasPrefix("redis://") ? 8 : 0
        return String(text.prefix(schemeLength)) + "***" + String(text[at...])
    }
}

private func percentDecoded(_ text: Substring) -> String {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8).makeIterator()
    while let byte = iterator.next() {
        if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
           let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
            bytes.append(value)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
