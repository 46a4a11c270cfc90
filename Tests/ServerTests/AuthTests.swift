import Foundation
import HTTPCore
import Reactor
import Testing
@testable import Server

@Suite struct AuthTests {
    func temporaryFile() -> String { NSTemporaryDirectory() + "tokens-\(UUID().uuidString).json" }

    @Test func addedTokensAreStoredAsHashesInAPrivateFile() throws {
        let path = temporaryFile()
        let token = try TokenStore.addToken(path: path, name: "desk", role: .viewer, accounts: ["ACC1"], expires: nil)
        #expect(token.hasPrefix("lw_") && token.count == 67)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains(token))
        #expect(text.contains(TokenStore.sha256Hex(token)))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let store = try TokenStore(path: path)
        #expect(store.principal(forToken: token)?.accounts == ["ACC1"])
        #expect(store.principal(forToken: token + "x") == nil)
        #expect(throws: ConfigurationError.self) { try TokenStore.addToken(path: path, name: "desk", role: .admin, accounts: nil, expires: nil) }
    }

    /// A file written by the Foundation encoder that used to write token files: it still loads,
    /// and `token add` appends to it in the new layout without losing an entry or a scope.
    @Test func aTokenFileFromTheFoundationEncoderStillLoadsAndGrows() throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let old = """
        {
          "tokens" : [
            {
              "accounts" : [
                "ACC1"
              ],
              "expires" : "2099-01-01T00:00:00Z",
              "name" : "desk",
              "role" : "viewer",
              "sha256" : "\(TokenStore.sha256Hex("old-token"))"
            }
          ]
        }
        """
        try old.write(toFile: path, atomically: true, encoding: .utf8)
        let before = try TokenStore(path: path)
        #expect(before.principal(forToken: "old-token") == Principal(name: "desk", role: .viewer, accounts: ["ACC1"],
                                                                      expires: 4_070_908_800 * 1_000_000_000,
                                                                      fingerprint: TokenStore.sha256Hex("old-token")))
        let token = try TokenStore.addToken(path: path, name: "ops", role: .admin, accounts: nil, expires: nil)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("{\n  \"tokens\": [\n    {\n      \"name\": \"desk\",\n"))
        #expect(text.contains(#""accounts": ["ACC1"]"#) && text.hasSuffix("}\n"))
        let after = try TokenStore(path: path)
        #expect(after.principal(forToken: "old-token") == before.principal(forToken: "old-token"))
        #expect(after.principal(forToken: token)?.role == .admin && after.entries.map(\.name) == ["desk", "ops"])
    }

    @Test func aBrokenTokenFileNamesTheKeyAndIsNotOverwritten() throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let broken = #"{"tokens":[{"name":"desk","role":"viewer"}]}"#
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try TokenStore(path: path) }
        do { _ = try TokenStore(path: path) } catch {
            #expect(error.description == "tokens file \(path): tokens[0].sha256: missing required value")
        }
        #expect(throws: ConfigurationError.self) { try TokenStore.addToken(path: path, name: "ops", role: .admin, accounts: nil, expires: nil) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == broken)
    }

    @Test func sha256MatchesTheKnownVector() {
        #expect(TokenStore.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func request(_ target: String, headers: [(String, String)] = []) -> HTTPRequest {
        HTTPRequest(method: "GET", target: target, headers: HTTPHeaders([("Host", "x")] + headers.map { (name: $0.0, value: $0.1) }))
    }

    @Test func tokensAreFoundInHeaderQueryOrSubprotocol() throws {
        let path = temporaryFile()
        let token = try TokenStore.addToken(path: path, name: "p", role: .producer, accounts: nil, expires: nil)
        let auth = Authenticator(tokens: try TokenStore(path: path), anonymousRole: nil)
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let ways = [
            request("/ws", headers: [("Authorization", "Bearer \(token)")]),
            request("/ws?token=\(token)"),
            request("/ws", headers: [("Sec-WebSocket-Protocol", "ladderwire.json, ladderwire.token.\(token)")]),
        ]
        for way in ways {
            guard case .success(let principal) = auth.authenticate(way, loopback: false, needs: .producer, now: now) else {
                Issue.record("token not accepted from \(way.target) \(way.headers.fields)")
                continue
            }
            #expect(principal.name == "p")
        }
        guard case .failure(let missing) = auth.authenticate(request("/ws"), loopback: true, needs: .viewer, now: now) else {
            Issue.record("no token must fail without anonymous access"); return
        }
        #expect(missing.status == 401)
        guard case .failure(let wrong) = auth.authenticate(request("/ws?token=nope"), loopback: true, needs: .viewer, now: now) else {
            Issue.record("a wrong token must fail"); return
        }
        #expect(wrong.status == 401)
        guard case .failure(let low) = auth.authenticate(ways[0], loopback: false, needs: .admin, now: now) else {
            Issue.record("a producer is not an admin"); return
        }
        #expect(low.status == 403)
    }

    @Test func expiredTokensAndAnonymousAccessFollowTheRules() throws {
        let path = temporaryFile()
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let token = try TokenStore.addToken(path: path, name: "old", role: .viewer, accounts: nil, expires: now - 1_000_000_000)
        let auth = Authenticator(tokens: try TokenStore(path: path), anonymousRole: .viewer)
        guard case .failure(let expired) = auth.authenticate(request("/ws?token=\(token)"), loopback: true, needs: .viewer, now: now) else {
            Issue.record("an expired token must fail"); return
        }
        #expect(expired.reason.contains("expired"))
        guard case .success(let anonymous) = auth.authenticate(request("/ws"), loopback: true, needs: .viewer, now: now) else {
            Issue.record("anonymous loopback viewer expected"); return
        }
        #expect(anonymous.name == "anonymous")
        guard case .failure = auth.authenticate(request("/ws"), loopback: false, needs: .viewer, now: now) else {
            Issue.record("anonymous access is loopback only"); return
        }
    }
}

@Suite struct CommandLineTests {
    @Test func flagsParseValuesSwitchesAndRejectUnknowns() throws {
        let flags = try LadderwireCommand.Flags(["--port", "9000", "--echo", "--db=/tmp/x.db", "pos"], valued: ["port", "db"], switches: ["echo"])
        #expect(flags.values == ["port": "9000", "db": "/tmp/x.db"])
        #expect(flags.switches == ["echo"])
        #expect(flags.positional == ["pos"])
        #expect(throws: LadderwireCommand.UsageError.self) { try LadderwireCommand.Flags(["--nope"], valued: [], switches: []) }
        #expect(throws: LadderwireCommand.UsageError.self) { try LadderwireCommand.Flags(["--port"], valued: ["port"], switches: []) }
        #expect(throws: LadderwireCommand.UsageError.self) { try LadderwireCommand.Flags(["--port", "1", "--port", "2"], valued: ["port"], switches: []) }
    }

    @Test func durationsParse() {
        #expect(LadderwireCommand.parseDuration("30d") == Int64(2_592_000))
        #expect(LadderwireCommand.parseDuration("12h") == Int64(43_200))
        #expect(LadderwireCommand.parseDuration("90m") == 5400)
        #expect(LadderwireCommand.parseDuration("5s") == 5)
        #expect(LadderwireCommand.parseDuration("0d") == nil)
        #expect(LadderwireCommand.parseDuration("3w") == nil)
    }
}

@Suite struct StaticFilesTests {
    @Test func symlinksOutOfTheRootAreNotServedButFilesAre() throws {
        let root = NSTemporaryDirectory() + "static-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/js", withIntermediateDirectories: true)
        try "<h1>hi</h1>".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        try "x".write(toFile: root + "/js/app.js", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/passwd", withDestinationPath: "/etc/passwd")
        let files = StaticFiles(directory: root)
        func get(_ path: String, _ headers: [(String, String)] = []) -> HTTPResponse {
            files.response(for: HTTPRequest(method: "GET", target: path, headers: HTTPHeaders([("Host", "x")] + headers.map { (name: $0.0, value: $0.1) })))
        }
        let index = get("/")
        #expect(index.status == 200)
        #expect(index.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(get("/js/app.js").headers["content-type"]?.hasPrefix("text/javascript") == true)
        #expect(get("/passwd").status == 404)
        #expect(get("/../etc/passwd").status == 404)
        #expect(get("/js").status == 404)
        let etag = try #require(index.headers["etag"])
        #expect(get("/", [("If-None-Match", etag)]).status == 304)
        #expect(get("/", [("If-None-Match", "\"other\"")]).status == 200)
    }
}

@Suite struct OriginPolicyTests {
    func request(origin: String?, host: String) -> HTTPRequest {
        var fields: [(name: String, value: String)] = [("Host", host)]
        if let origin { fields.append(("Origin", origin)) }
        return HTTPRequest(method: "GET", target: "/ws", headers: HTTPHeaders(fields))
    }

    @Test func sameOriginAndNonBrowserClientsAreAllowed() {
        #expect(OriginPolicy.allows(request(origin: nil, host: "127.0.0.1:8080"), extra: []))
        #expect(OriginPolicy.allows(request(origin: "http://127.0.0.1:8080", host: "127.0.0.1:8080"), extra: []))
        #expect(OriginPolicy.allows(request(origin: "https://desk.example.com", host: "desk.example.com:443"), extra: []))
        #expect(OriginPolicy.allows(request(origin: "http://Desk.Example.com:80", host: "desk.example.com"), extra: []))
    }

    @Test func otherSitesAreRefusedUnlessConfigured() {
        #expect(!OriginPolicy.allows(request(origin: "https://evil.example", host: "127.0.0.1:8080"), extra: []))
        #expect(!OriginPolicy.allows(request(origin: "http://127.0.0.1:9999", host: "127.0.0.1:8080"), extra: []))
        #expect(!OriginPolicy.allows(request(origin: "null", host: "127.0.0.1:8080"), extra: []))
        #expect(OriginPolicy.allows(request(origin: "https://ops.example.com", host: "127.0.0.1:8080"), extra: ["https://ops.example.com"]))
    }
}

@Suite struct HardeningUnitTests {
    @Test func anExpiryBeyondInt64NanosecondsIsAClearErrorNotATrap() throws {
        let path = NSTemporaryDirectory() + "tokens-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = #"{"tokens":[{"name":"far","sha256":"\#(String(repeating: "a", count: 64))","role":"viewer","expires":"9999-12-31T00:00:00Z"}]}"#
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try TokenStore(path: path) }
        #expect(TokenStore.nanoseconds(sinceEpoch: 9.3e9) == nil)
        #expect(TokenStore.nanoseconds(sinceEpoch: 1.0) == 1_000_000_000)
        #expect(LadderwireCommand.parseDuration("99999999999999999d") == Int64.max)
    }

    @Test func aRevokedOrChangedTokenIsNoLongerAdmitted() throws {
        let path = NSTemporaryDirectory() + "tokens-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let token = try TokenStore.addToken(path: path, name: "desk", role: .viewer, accounts: nil, expires: nil)
        let store = try TokenStore(path: path)
        let principal = try #require(store.principal(forToken: token))
        #expect(store.admits(principal, now: 0))
        #expect(try TokenStore.revokeToken(path: path, name: "desk"))
        #expect(try !TokenStore.revokeToken(path: path, name: "desk"))
        #expect(!(try TokenStore(path: path)).admits(principal, now: 0))
        #expect(TokenStore().admits(Principal(name: "anonymous", role: .admin, accounts: nil, expires: nil), now: 0))
    }

    @Test func hostNamesAreComparedWithoutPortCaseOrTrailingDot() {
        #expect(HostPolicy.name(ofHost: "Desk.Example.com.:8080") == "desk.example.com")
        #expect(HostPolicy.name(ofHost: "[::1]:8080") == "::1")
        #expect(HostPolicy.name(ofHost: "10.0.0.7") == "10.0.0.7")
        #expect(HostPolicy.name(ofHost: " \tLOCALHOST:80 ") == "localhost")
        #expect(HostPolicy.name(ofHost: "fe80::1") == "fe80::1", "a bare IPv6 address keeps its colons")
        #expect(HostPolicy.name(ofHost: "[FE80::1]") == "fe80::1")
        #expect(HostPolicy.name(ofHost: "") == "" && HostPolicy.name(ofHost: "[") == "[")
        #expect(Connection.address(ofPeer: "127.0.0.1:54321") == "127.0.0.1")
        #expect(Connection.address(ofPeer: "[::1]:54321") == "::1")
        #expect(Connection.address(ofPeer: "unix") == "unix")
        let policy = HostPolicy(listenHost: "0.0.0.0", allowedHosts: ["desk.example.com"])
        #expect(policy.names == ["localhost", "127.0.0.1", "::1", "desk.example.com"])
        #expect(ServerContext.isLoopbackListener("127.0.0.1") && ServerContext.isLoopbackListener("::1"))
        #expect(!ServerContext.isLoopbackListener("0.0.0.0") && !ServerContext.isLoopbackListener("10.0.0.7"))
    }

    @Test func auditDetailsAreCutAtACharacterBoundary() {
        let detail = String(repeating: "é", count: 500)
        let cut = RefusalAudit.truncated(detail)
        #expect(cut.utf8.count <= RefusalAudit.detailLimit + 3 && cut.hasSuffix("…") && !cut.contains("\u{FFFD}"))
        #expect(RefusalAudit.truncated("short") == "short")
    }
}
