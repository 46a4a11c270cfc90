import HTTPCore

/// Which browser origins may open WebSockets and POST: the server's own (the Origin's host and
/// port equal the request's Host) and the configured `allowedOrigins`. Requests without an
/// Origin header come from non-browser clients (scripts, wscat, producers) and are let through:
/// the attack this stops — a page elsewhere driving the trader's browser — always has one.
enum OriginPolicy {
    static func allows(_ request: HTTPRequest, extra: [String]) -> Bool {
        guard let origin = request.headers["origin"] else { return true }
        let normalized = origin.lowercased()
        if extra.contains(where: { $0.lowercased() == normalized }) { return true }
        guard let host = request.headers["host"]?.lowercased(),
              let schemeEnd = normalized.range(of: "://") else { return false }
        var authority = String(normalized[schemeEnd.upperBound...])
        if authority.hasSuffix("/") { authority.removeLast() }
        let scheme = normalized[..<schemeEnd.lowerBound]
        // An Origin leaves out the scheme's default port; a Host may or may not.
        let defaultPort = scheme == "https" ? ":443" : ":80"
        return authority == host || authority + defaultPort == host || authority == host + defaultPort
    }
}
