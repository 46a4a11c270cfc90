import Bytes
import Foundation
import Glibc
import Reactor

/// An endpoint that acts for a token's principal (closed when the token goes).
protocol TokenBearing: AnyObject {
    var principal: Principal { get }
}

extension SubscriberEndpoint: TokenBearing {}
extension ProducerEndpoint: TokenBearing {}

/// Reloads the token file on SIGHUP and when it changes on disk (checked every second: inode,
/// size, modification time). A reload audits `token_add` / `token_revoke` for each name whose
/// token appeared, changed or went, and closes the open `/ws` and `/feed` connections of every
/// token no longer admitted with 4001 at once. A file that cannot be read or checked is logged
/// and the tokens in force stay. Loop thread only.
final class TokenWatch {
    let path: String
    private let log: @Sendable (String) -> Void
    private var signature: [Int64]?

    init(config: ServerConfig, log: @escaping @Sendable (String) -> Void) {
        self.path = config.effectiveTokensFile.path
        self.log = log
        self.signature = TokenWatch.signature(of: config.effectiveTokensFile.path)
    }

    static func signature(of path: String) -> [Int64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int64(info.st_ino), Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)]
    }

    func start(_ context: ServerContext) {
        context.loop.schedule(after: 1) { [self] in
            let now = TokenWatch.signature(of: path)
            if now != signature { reload(context, reason: "file changed") }
            start(context)
        }
    }

    func reload(_ context: ServerContext, reason: String) {
        signature = TokenWatch.signature(of: path)
        let fresh: TokenStore
        if signature == nil {
            fresh = TokenStore()   // the file is gone: no token is valid any more
        } else {
            do { fresh = try TokenStore(path: path) } catch {
                log("tokens: reload (\(reason)) failed, keeping the tokens in force: \(error.description)")
                return
            }
        }
        let old = context.authenticator.tokens
        let before = Dictionary(old.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(fresh.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var added = 0, revoked = 0
        for (name, entry) in after.sorted(by: { $0.key < $1.key }) where before[name] != entry {
            added += 1
            context.pipeline.audit(actor: "tokens", action: "token_add",
                                   detail: "\(name) (\(entry.role)\(entry.accounts.map { ", accounts " + $0.joined(separator: ",") } ?? "")\(entry.expires.map { ", expires " + $0 } ?? ""))")
        }
        for (name, entry) in before.sorted(by: { $0.key < $1.key }) where after[name] != entry {
            revoked += 1
            context.pipeline.audit(actor: "tokens", action: "token_revoke", detail: "\(name) (\(entry.role))")
        }
        context.authenticator = Authenticator(tokens: fresh, anonymousRole: context.authenticator.anonymousRole)
        let now = wallClockNanos()
        var closed = 0
        for connection in Array(context.loop.allConnections) {
            guard let session = connection.handler as? WebSocketSession,
                  let bearer = session.endpoint as? TokenBearing,
                  !fresh.admits(bearer.principal, now: now) else { continue }
            session.close(.tokenExpired, reason: "token revoked")
            closed += 1
        }
        log("tokens: reloaded \(path) (\(reason)): \(fresh.entries.count) tokens, \(added) added or changed, \(revoked) revoked or changed, \(closed) connections closed")
    }
}
