/// `ws://host:port[/path][?query]`, the only form the bench accepts (it measures the server, not TLS).
struct ServerURL: Sendable {
    var host: String
    var port: Int

    init?(_ text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("ws://") { rest = rest.dropFirst(5) } else if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else { return nil }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), port > 0, port < 65536 else { return nil }
        host = String(rest[..<colon])
        self.port = port
    }

    static func required(_ options: BenchOptions) -> ServerURL {
        guard let text = options.string("url") else { BenchOptions.fail("\(options.command): --url ws://HOST:PORT is required") }
        guard let url = ServerURL(text) else { BenchOptions.fail("\(options.command): --url must look like ws://127.0.0.1:8080, got '\(text)'") }
        return url
    }
}
