import HTTPCore

/// Which Host names this server answers to (DNS rebinding): `localhost`, the loopback
/// addresses, the listen address, the address the connection arrived on, and the configured
/// `allowedHosts`. A page whose own domain re-resolves to this machine sends its own name as
/// Host, so it is refused (421) before any route, token or anonymous access is looked at.
struct HostPolicy {
    let names: Set<String>

    init(listenHost: String, allowedHosts: [String]) {
        var names: Set<String> = ["localhost", "127.0.0.1", "::1"]
        let listen = HostPolicy.name(ofHost: listenHost)
        if !["0.0.0.0", "::", ""].contains(listen) { names.insert(listen) }
        for host in allowedHosts { names.insert(HostPolicy.name(ofHost: host)) }
        self.names = names
    }

    /// True when the request may be served. A request without Host (HTTP/1.0; HTTP/1.1 without
    /// one is already 400) never comes from a browser, so it passes.
    func allows(_ request: HTTPRequest, localAddress: @autoclosure () -> String?) -> Bool {
        guard let host = request.headers["host"] else { return true }
        let name = HostPolicy.name(ofHost: host)
        if names.contains(name) { return true }
        return localAddress().map { $0.lowercased() == name } ?? false
    }

    /// "Desk.Example.com.:8080" → "desk.example.com"; "[::1]:8080" → "::1"; "10.0.0.7" stays.
    static func name(ofHost header: String) -> String {
        var text = Substring(header.lowercased().trimmingSpaces())
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon { text = text[..<colon] }
        if text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }
}
