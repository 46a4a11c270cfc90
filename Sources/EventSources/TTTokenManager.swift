import Bytes
import Foundation
import JSON
import Ledger
import Synchronization

/// The TT bearer token: obtained with the app key and secret, cached in memory and in a
/// per-environment token file (mode 0600) so a restart does not ask for a new one, and refreshed
/// `tokenRefreshBufferSeconds` before it expires. Thread-safe: the lock is held across a refresh,
/// so concurrent callers never fetch two tokens; `refresh(replacing:)` fetches only when the
/// token a caller saw rejected is still the current one (one refresh per 401, however many callers).
public final class TTTokenManager: Sendable {
    public struct Token: Sendable, Equatable {
        public var accessToken: String
        public var tokenType: String
        /// Nanoseconds since the Unix epoch.
        public var expiresAt: Int64
    }

    let config: TTConfig
    private let transport: any OutboundHTTP
    private let clock: any MonitorClock
    private let rateLimit: TokenBucket?
    private let current = Mutex<Token?>(nil)
    private let refreshes = Atomic<Int>(0)

    public init(config: TTConfig, transport: any OutboundHTTP, clock: any MonitorClock = SystemClock(),
                rateLimit: TokenBucket? = nil) {
        self.config = config
        self.transport = transport
        self.clock = clock
        self.rateLimit = rateLimit
    }

    /// How many tokens were fetched from TT by this manager.
    public var refreshCount: Int { refreshes.load(ordering: .relaxed) }

    /// A token valid for at least the refresh buffer: from memory, else the token file, else TT.
    public func bearer(stopping: StopSignal) throws(TTError) -> String {
        try current.withLock { (token: inout Token?) throws(TTError) -> String in
            if let token, isFresh(token) { return token.accessToken }
            if let stored = try loadTokenFile(), isFresh(stored) {
                token = stored
                return stored.accessToken
            }
            let fetched = try fetch(stopping: stopping)
            token = fetched
            return fetched.accessToken
        }
    }

    /// After a 401 with `stale`: fetches a new token unless another caller already did.
    public func refresh(replacing stale: String, stopping: StopSignal) throws(TTError) -> String {
        try current.withLock { (token: inout Token?) throws(TTError) -> String in
            if let token, token.accessToken != stale, isFresh(token) { return token.accessToken }
            let fetched = try fetch(stopping: stopping)
            token = fetched
            return fetched.accessToken
        }
    }

    private func isFresh(_ token: Token) -> Bool {
        token.expiresAt - Int64(config.tokenRefreshBufferSeconds) * 1_000_000_000 > clock.now()
    }

    private func fetch(stopping: StopSignal) throws(TTError) -> Token {
        guard !config.baseURL.isEmpty else { throw .notConfigured("sources.tt.baseURL is empty") }
        guard let key = config.appKey?.reveal(), let secret = config.appSecret?.reveal() else {
            throw .notConfigured("app key and secret are not set (LADDERWIRE_TT_APP_KEY / LADDERWIRE_TT_APP_SECRET or sources.tt.secretsFile)")
        }
        if let rateLimit, !rateLimit.acquire(stopping: stopping) { throw .stopped }
        let url = "\(config.baseURL)/ttid/\(config.environment)/token?requestId=\(formEncoded(ttRequestId(app: config.appName, company: config.company)))"
        let request = OutboundRequest(
            method: "POST", url: url,
            headers: ["x-api-key": key, "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
            body: "grant_type=user_app&app_key=\(formEncoded(key)):\(formEncoded(secret))")
        let reply = try transport.send(request, timeoutSeconds: config.requestTimeoutSeconds)
        switch reply.status {
        case 200..<300: break
        case 401, 403: throw .unauthorized("token request refused (HTTP \(reply.status)): check the app key and secret")
        default: throw .status(code: reply.status, retryAfterSeconds: retryAfter(reply), detail: "token request")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(reply.body) } catch { throw .malformedReply("token reply: \(error.message) at byte \(error.offset)") }
        guard case .string(let access)? = json["access_token"], !access.isEmpty else {
            throw .malformedReply("token reply has no access_token")
        }
        guard let seconds = json["seconds_until_expiry"]?.wholeNumber else {
            throw .malformedReply("token reply has no integer seconds_until_expiry")
        }
        var tokenType = "bearer"
        if case .string(let type)? = json["token_type"] { tokenType = type }
        // A lifetime beyond 30 days is TT's number, not a reason to trap: it is capped.
        guard seconds >= 0 else { throw .malformedReply("token reply has a negative seconds_until_expiry") }
        let token = Token(accessToken: access, tokenType: tokenType,
                          expiresAt: clock.now() + min(seconds, 30 * 86_400) * 1_000_000_000)
        refreshes.add(1, ordering: .relaxed)
        try storeTokenFile(token)
        return token
    }

    private func loadTokenFile() throws(TTError) -> Token? {
        let text: String?
        do { text = try PrivateFile.read(config.effectiveTokenFile) } catch { throw .tokenFile(error.description) }
        guard let text, let json = try? JSONValue.parse(text),
              case .string(let access)? = json["access_token"],
              let expiresAt = json["expires_at_ns"]?.wholeNumber,
              case .string(let environment)? = json["environment"], environment == config.environment
        else { return nil }   // unreadable or foreign content: fetch a fresh token and overwrite it
        var tokenType = "bearer"
        if case .string(let type)? = json["token_type"] { tokenType = type }
        return Token(accessToken: access, tokenType: tokenType, expiresAt: expiresAt)
    }

    private func storeTokenFile(_ token: Token) throws(TTError) {
        let json = JSONValue.object([
            ("environment", .string(config.environment)),
            ("access_token", .string(token.accessToken)),
            ("token_type", .string(token.tokenType)),
            ("expires_at_ns", .int(token.expiresAt)),
            ("expires_at", .string(isoString(token.expiresAt))),
        ])
        do { try PrivateFile.write(json.serialized + "\n", to: config.effectiveTokenFile) } catch { throw .tokenFile(error.description) }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is treated as "unspecified").
/// `Retry-After` in seconds, capped at an hour: a server's number must not become an overflow
/// (or a poller asleep for years) when it is turned into nanoseconds.
func retryAfter(_ reply: OutboundReply) -> Int64? {
    guard let text = reply.headers["retry-after"]?.trimmingCharacters(in: .whitespaces), let seconds = Int64(text), seconds >= 0 else {
        return nil
    }
    return min(seconds, maximumRetryAfterSeconds)
}

let maximumRetryAfterSeconds: Int64 = 3600

extension TTTokenManager {
    /// One GET of TT's REST API with the bearer token, the app key and a fresh requestId (`path`
    /// after the base URL, `query` before the requestId), under the shared rate limit. A 401 gets
    /// exactly one refresh and one retry: a second 401 is not a stale token. Shared by every TT
    /// source (fills, orders, positions).
    func authorizedGet(_ path: String, query: String = "", what: String, transport: any OutboundHTTP,
                       rateLimit: TokenBucket, stopping: StopSignal) throws(TTError) -> OutboundReply {
        func get(_ token: String) throws(TTError) -> OutboundReply {
            guard let key = config.appKey?.reveal() else { throw .notConfigured("app key is not set") }
            if !rateLimit.acquire(stopping: stopping) { throw .stopped }
            let requestId = formEncoded(ttRequestId(app: config.appName, company: config.company))
            let url = "\(config.baseURL)/\(path)?\(query)\(query.isEmpty ? "" : "&")requestId=\(requestId)"
            return try transport.send(
                OutboundRequest(method: "GET", url: url,
                                headers: ["x-api-key": key, "Authorization": "Bearer \(token)", "Accept": "application/json"]),
                timeoutSeconds: config.requestTimeoutSeconds)
        }
        let token = try bearer(stopping: stopping)
        let reply = try get(token)
        guard reply.status == 401 else { return reply }
        let retried = try get(try refresh(replacing: token, stopping: stopping))
        if retried.status == 401 { throw .unauthorized("\(what) request still 401 with a new token") }
        return retried
    }
}
