import Bytes
import HTTPCore
import Reactor
import WebSocketCore
import Wire

/// What a request turns into.
enum RouteResult {
    case response(HTTPResponse)
    /// Answered later (after a trip to the pipeline thread); `start` gets the reply callback,
    /// which must be called on the loop thread.
    case deferred((@escaping (HTTPResponse) -> Void) -> Void)
    /// The agreed permessage-deflate (if any) travels in `Accepted.deflate`; `FrameDeflate` is
    /// how this endpoint compresses what it sends.
    case upgrade(Handshake.Accepted, WebSocketEndpoint, FrameDeflate?)
}

/// Maps method + path to a handler. Paths and names are the public contract.
struct Router {
    unowned let context: ServerContext

    /// `peerAddress` is the connection's (the session keeps it: formatting it again costs ~700
    /// instructions a request).
    func route(_ request: HTTPRequest, connection: Connection, peerAddress: String) -> RouteResult {
        // DNS rebinding: a page on another domain that now resolves here carries its own Host.
        if let refused = hostRefusal(request, connection: connection) { return .response(refused) }
        // Browsers send Origin with every WebSocket handshake and every POST: a page from another
        // site must not use the trader's browser (and its loopback access) to read or write.
        if request.method == "POST" || (request.path != "/echo" && request.isUpgradeRequest),
           !OriginPolicy.allows(request, extra: context.config.allowedOrigins) {
            return .response(.text(403, "origin \(request.headers["origin"] ?? "") is not allowed (same origin or allowedOrigins only)"))
        }
        if let answer = EdgeRoutes.answer(request, context: context) { return answer }
        switch request.path {
        case "/ws":
            guard context.viewerRequests.admit(peerAddress) else {
                context.metrics.refused["subscription_rate", default: 0] += 1
                var response = HTTPResponse.text(429, "too many new subscriptions from this address; retry in a second")
                response.headers.add("Retry-After", "1")
                return .response(response)
            }
            return upgrade(request, connection: connection, role: .viewer, compression: context.config.compression.ws) { principal, subprotocol in
                SubscriberEndpoint(context: context, principal: principal, request: request, subprotocol: subprotocol)
            }
        case "/feed":
            return upgrade(request, connection: connection, role: .producer, compression: context.config.compression.feed) { principal, _ in
                ProducerEndpoint(context: context, principal: principal)
            }
        case "/echo":
            guard context.config.echo else { return .response(.text(404, "not found (start with --echo to enable /echo)")) }
            return upgrade(request, connection: connection, role: nil, compression: context.config.compression.echo) { _, _ in EchoEndpoint() }
        case "/healthz":
            return only(["GET", "HEAD"], request) { .response(Endpoints.health(context, detailed: mayReadDetail(request))) }
        case "/metrics":
            return only(["GET", "HEAD"], request) { .response(Endpoints.metrics(context)) }
        case "/api/fills":
            return only(["GET", "HEAD", "POST"], request) {
                authorized(request, connection: connection, role: request.method == "POST" ? .producer : .viewer) { principal in
                    request.method == "POST" ? API.postFills(request, principal: principal, context: context)
                                             : API.getFills(request, principal: principal, context: context)
                }
            }
        case "/api/dayroll":
            return only(["POST"], request) {
                authorized(request, connection: connection, role: .admin) { principal in
                    API.dayRoll(principal: principal, context: context)
                }
            }
        case "/api/snapshot":
            return only(["GET", "HEAD"], request) {
                authorized(request, connection: connection, role: .viewer) { principal in
                    API.getSnapshot(request, principal: principal, context: context)
                }
            }
        default:
            return only(["GET", "HEAD"], request) { .response(context.staticFiles.response(for: request)) }
        }
    }

    /// Error texts in /healthz: for an admin token (or anonymous admin on a loopback `sim`
    /// listener). Never a refusal: anyone else just gets the states.
    private func mayReadDetail(_ request: HTTPRequest) -> Bool {
        if case .success = context.authenticator.authenticate(request, loopback: context.listenerIsLoopback, needs: .admin, now: wallClockNanos()) {
            return true
        }
        return false
    }

    /// 421 (and an aggregated audit row) for a Host this server does not answer to.
    private func hostRefusal(_ request: HTTPRequest, connection: Connection) -> HTTPResponse? {
        guard !context.hostPolicy.allows(request, localAddress: connection.localAddress) else { return nil }
        let host = request.headers["host"] ?? ""
        context.metrics.refused["host", default: 0] += 1
        context.refusals.record(address: connection.peerAddress, action: "host_refused", kind: "host",
                                detail: "\(request.method) \(request.path): Host \(host)")
        return .text(421, "host '\(host)' is not served here (localhost, the listen address, or allowedHosts)")
    }

    /// The checks a request with a body must pass on its head alone, before the body is read:
    /// Host, Origin, and the token for the route's role. nil: read the body.
    func refusal(forHead head: HTTPRequest, connection: Connection) -> HTTPResponse? {
        if let refused = hostRefusal(head, connection: connection) { return refused }
        if !OriginPolicy.allows(head, extra: context.config.allowedOrigins) {
            return .text(403, "origin \(head.headers["origin"] ?? "") is not allowed (same origin or allowedOrigins only)")
        }
        // An edge answers a write with the core's address, whoever asks (it commits nothing).
        if case .response(let response)? = EdgeRoutes.answer(head, context: context) { return response }
        let role: Principal.Role
        switch (head.method, head.path) {
        case ("POST", "/api/fills"): role = .producer
        case ("POST", "/api/dayroll"): role = .admin
        default: return nil
        }
        if case .failure(let refusal) = authenticate(head, connection: connection, role: role) { return refusal.response }
        return nil
    }

    private func only(_ methods: [String], _ request: HTTPRequest, _ body: () -> RouteResult) -> RouteResult {
        guard methods.contains(request.method) else {
            var response = HTTPResponse.text(405, "method \(request.method) not allowed here")
            response.headers.add("Allow", methods.joined(separator: ", "))
            return .response(response)
        }
        return body()
    }

    private func authorized(_ request: HTTPRequest, connection: Connection, role: Principal.Role,
                            _ body: (Principal) -> RouteResult) -> RouteResult {
        switch authenticate(request, connection: connection, role: role) {
        case .success(let principal): return body(principal)
        case .failure(let refusal): return refusal.result
        }
    }

    /// Checks the token; a refusal is counted, audited (never with the token) and answered.
    private func authenticate(_ request: HTTPRequest, connection: Connection, role: Principal.Role) -> Result<Principal, Refusal> {
        // Anonymous access follows the listener (a loopback one), never the peer's address: behind
        // a proxy on the same box every peer is 127.0.0.1.
        switch context.authenticator.authenticate(request, loopback: context.listenerIsLoopback, needs: role, now: wallClockNanos()) {
        case .success(let principal):
            return .success(principal)
        case .failure(let failure):
            context.metrics.authFailures += 1
            context.refusals.record(address: connection.peerAddress, action: "login_failure", kind: failure.kind,
                                    detail: "\(request.method) \(request.path): \(failure.reason)")
            var response = HTTPResponse.text(failure.status, failure.reason)
            if failure.status == 401 { response.headers.add("WWW-Authenticate", "Bearer realm=\"ladderwire\"") }
            return .failure(Refusal(response: response))
        }
    }

    struct Refusal: Error {
        let response: HTTPResponse
        var result: RouteResult { .response(response) }
    }

    private func upgrade(_ request: HTTPRequest, connection: Connection, role: Principal.Role?,
                         compression: ServerConfig.Compression.Mode,
                         makeEndpoint: (Principal, String?) -> WebSocketEndpoint) -> RouteResult {
        let minimumBytes = context.config.compression.minimumBytes(compression)
        // The handshake is checked first, so a plain GET gets the RFC's answer, not an auth error.
        let result = Handshake.accept(request, chooseSubprotocol: { names in
            // Echo back the format protocol if one was offered; a token-carrying name is never echoed.
            names.first { $0 == "ladderwire.json" || $0 == "ladderwire.text" }
        }, offerDeflate: minimumBytes != nil)
        switch result {
        case .failure(let rejection):
            return .response(rejection.response)
        case .success(let accepted):
            var principal = Principal(name: "anonymous", role: .admin, accounts: nil, expires: nil)
            if let role {
                switch authenticate(request, connection: connection, role: role) {
                case .success(let found): principal = found
                case .failure(let refusal): return refusal.result
                }
            }
            context.metrics.webSocketsOpened += 1
            let deflate = accepted.deflate.flatMap { agreed in
                minimumBytes.map { FrameDeflate(windowBits: agreed.serverMaxWindowBits, minimumBytes: $0) }
            }
            return .upgrade(accepted, makeEndpoint(principal, accepted.subprotocol), deflate)
        }
    }
}
