import HTTPCore

/// Finds and checks the caller's token: `Authorization: Bearer`, `?token=`, or the WebSocket
/// subprotocol `ladderwire.token.<token>` (browsers cannot set headers on a WebSocket).
struct Authenticator {
    let tokens: TokenStore
    /// Role granted without a token to loopback clients (nil: tokens required everywhere).
    let anonymousRole: Principal.Role?

    enum Failure: Error {
        case missing, invalid, expired(String), forbidden(String)

        var status: Int {
            switch self {
            case .missing, .invalid, .expired: return 401
            case .forbidden: return 403
            }
        }
        /// The kind, for aggregating audit rows.
        var kind: String {
            switch self {
            case .missing: return "missing"
            case .invalid: return "invalid"
            case .expired: return "expired"
            case .forbidden: return "forbidden"
            }
        }
        var reason: String {
            switch self {
            case .missing: return "a token is required (Authorization: Bearer, ?token=, or subprotocol ladderwire.token.<token>)"
            case .invalid: return "unknown token"
            case .expired(let name): return "token '\(name)' has expired"
            case .forbidden(let why): return why
            }
        }
    }

    static let subprotocolPrefix = "ladderwire.token."

    static func presentedToken(in request: HTTPRequest) -> String? {
        if let header = request.headers["authorization"] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingSpaces() }
        }
        if let token = request.query["token"], !token.isEmpty { return token }
        for value in request.headers.values("sec-websocket-protocol") {
            for offered in value.split(separator: ",") {
                let name = String(offered).trimmingSpaces()
                if name.hasPrefix(subprotocolPrefix) { return String(name.dropFirst(subprotocolPrefix.count)) }
            }
        }
        return nil
    }

    func authenticate(_ request: HTTPRequest, loopback: Bool, needs role: Principal.Role, now: Int64) -> Result<Principal, Failure> {
        let principal: Principal
        if let token = Self.presentedToken(in: request) {
            guard let found = tokens.principal(forToken: token) else { return .failure(.invalid) }
            if let expires = found.expires, expires <= now { return .failure(.expired(found.name)) }
            principal = found
        } else if loopback, let anonymousRole {
            principal = Principal(name: "anonymous", role: anonymousRole, accounts: nil, expires: nil)
        } else {
            return .failure(.missing)
        }
        guard principal.role >= role else {
            return .failure(.forbidden("token '\(principal.name)' is a \(principal.role.rawValue); this needs \(role.rawValue)"))
        }
        return .success(principal)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
