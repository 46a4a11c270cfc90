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
    /// On bytes, lower-casing ASCII only: host names travel as ASCII (an IDN as punycode), and
    /// the Unicode-aware `String` version cost ~10,000 instructions on every request.
    static func name(ofHost header: String) -> String {
        var bytes = header.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }[...]
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes.removeFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        if bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
            return String(decoding: bytes[(bytes.startIndex + 1)..<close], as: UTF8.self)
        }
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")), bytes.firstIndex(of: UInt8(ascii: ":")) == colon {
            bytes = bytes[..<colon]
        }
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
