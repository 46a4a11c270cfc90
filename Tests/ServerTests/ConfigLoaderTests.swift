import ConfigFiles
import EventSources
import Foundation
import JSON
import TestSupport
import Testing
@testable import Server

@Suite struct ConfigLoaderTests {
    /// Parses `text` as a config file for `environment` and returns the error it raises.
    func error(_ text: String, environment: ServerConfig.Environment = .sim) -> ConfigError? {
        do { _ = try ConfigLoader.parse(text: text, file: "test.json", environment: environment); return nil }
        catch { return error }
    }

    @Test func noFileGivesTheEmbeddedDefaults() throws {
        let folder = TemporaryDirectory(); defer { folder.remove() }
        let config = try ConfigLoader.load(path: nil, environment: nil, variables: [:],
                                               defaultFile: folder.file("config/ladderwire.json"), root: nil)
        #expect(config == ServerConfig())
        #expect(config.host == "127.0.0.1" && config.port == 8080)
        #expect(config.databasePath == "var/ladderwire-sim.db")
        #expect(config.sources == ["replay"])
        #expect(config.monitors.replay.file == "tools/feeds/sample-day.ndjson" && config.monitors.replay.loop)
        #expect(config.allowAnonymousViewers)
    }

    @Test func compressionIsSetPerEndpoint() throws {
        #expect(ServerConfig().compression == ServerConfig.Compression())
        #expect(ServerConfig().compression.ws == .auto && ServerConfig().compression.minBytes == 128)
        let config = try ConfigLoader.parse(text: #"{"shared": {"compression": {"ws": "off", "feed": "on", "echo": "auto", "minBytes": 512}}}"#,
                                            file: "test.json", environment: .sim)
        #expect(config.compression.ws == .off && config.compression.feed == .on && config.compression.echo == .auto)
        #expect(config.compression.minimumBytes(.off) == nil)
        #expect(config.compression.minimumBytes(.on) == 0)
        #expect(config.compression.minimumBytes(.auto) == 512)
        #expect(error(#"{"shared": {"compression": {"ws": "maybe"}}}"#)?.path.contains("compression.ws") == true)
        #expect(error(#"{"shared": {"compression": {"level": 9}}}"#) != nil)
    }

    @Test func shippedConfigForSimEqualsTheEmbeddedDefaults() throws {
        // The shipped file names its paths relative to its own folder; the defaults resolve against
        // the install root (here the checkout): both land on the same files.
        let config = try ConfigLoader.load(path: "\(repositoryRoot)/config/ladderwire.json", environment: "sim", variables: [:],
                                           root: repositoryRoot)
        var expected = ServerConfig().resolvingPaths(against: repositoryRoot)
        expected.configFolder = "\(repositoryRoot)/config"
        #expect(config == expected)
        #expect(config.effectiveTokensFile.path == "\(repositoryRoot)/config/tokens.sim.json")
        #expect(config.instrumentsFile == "\(repositoryRoot)/config/instruments.json")
        #expect(config.staticDir == "\(repositoryRoot)/static")
    }

    @Test func shippedConfigSelectsLiveSection() throws {
        let variables = [ConfigLoader.appKeyVariable: "key-123", ConfigLoader.appSecretVariable: "secret-456"]
        let config = try ConfigLoader.load(path: "\(repositoryRoot)/config/ladderwire.json", environment: "live", variables: variables)
        #expect(config.environment == .live)
        #expect(config.databasePath == "\(repositoryRoot)/var/ladderwire-live.db")
        #expect(config.sources == ["tt"])
        #expect(config.monitors.tt.environment == "ext_prod_live")
        #expect(config.monitors.tt.baseURL == "https://ttrestapi.trade.tt")
        #expect(config.monitors.tt.pollSeconds == 5)              // from shared
        #expect(config.allowAnonymousViewers == false)
        #expect(config.monitors.tt.appKey?.reveal() == "key-123")
    }

    @Test func relativePathsInAFileResolveAgainstItsFolderAndDefaultsAgainstTheRoot() throws {
        let folder = TemporaryDirectory(); defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.file("etc"), withIntermediateDirectories: true)
        let file = folder.file("etc/ladderwire.json")
        try Data(#"{"shared": {"instrumentsFile": "instruments.json", "staticDir": "../www", "databasePath": "/abs/x.db", "tokensFile": "./t.json", "sources": {"replay": {"file": "feeds/day.ndjson"}}}}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let config = try ConfigLoader.load(path: file, environment: "sim", variables: [:], root: "/opt/lw")
        #expect(config.instrumentsFile == folder.file("etc/instruments.json"))
        #expect(config.staticDir == folder.file("www"))
        #expect(config.databasePath == "/abs/x.db")
        #expect(config.tokensFile == folder.file("etc/t.json"))
        #expect(config.monitors.replay.file == folder.file("etc/feeds/day.ndjson"))
        // Not named in the file: the install root's.
        #expect(config.effectiveAccountsFile.path == folder.file("etc/accounts.json"))
        let defaults = try ConfigLoader.load(path: nil, environment: "uat", variables: [:], defaultFile: folder.file("none.json"), root: "/opt/lw")
        #expect(defaults.instrumentsFile == "/opt/lw/config/instruments.json")
        #expect(defaults.databasePath == "/opt/lw/var/ladderwire-uat.db")
        #expect(defaults.effectiveTokensFile.path == "/opt/lw/config/tokens.uat.json")
    }

    @Test func pathsFold() {
        #expect(ConfigPaths.resolve("../static", against: "/a/b/config") == "/a/b/static")
        #expect(ConfigPaths.resolve("/x/./y//z/..", against: "/a") == "/x/y")
        #expect(ConfigPaths.resolve("x", against: nil) == "x")
        #expect(ConfigPaths.resolve("../../..", against: "/a") == "/")
    }

    @Test func theInstallRootIsShareLadderwireOrTheCheckoutAboveTheBinary() throws {
        let folder = TemporaryDirectory(); defer { folder.remove() }
        for dir in ["bin", "share/ladderwire/config", "etc/ladderwire"] {
            try FileManager.default.createDirectory(atPath: folder.file(dir), withIntermediateDirectories: true)
        }
        #expect(ConfigPaths.installRoot(executableFolder: folder.file("bin")) == nil)
        #expect(ConfigPaths.defaultConfigFile(executableFolder: folder.file("bin")) == nil)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: folder.file("share/ladderwire/config/instruments.json")))
        #expect(ConfigPaths.installRoot(executableFolder: folder.file("bin")) == folder.file("share/ladderwire"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: folder.file("etc/ladderwire/ladderwire.json")))
        #expect(ConfigPaths.defaultConfigFile(executableFolder: folder.file("bin")) == folder.file("etc/ladderwire/ladderwire.json"))
        #expect(ConfigPaths.installRoot(executableFolder: "\(repositoryRoot)/.build/debug") == repositoryRoot)
    }

    /// uat acknowledges to a desk too: no anonymous access, and every commit fsynced.
    @Test func shippedConfigForUatIsTokensOnlyAndFullDurability() throws {
        let variables = [ConfigLoader.appKeyVariable: "key-123", ConfigLoader.appSecretVariable: "secret-456"]
        for environment in ["uat", "live"] {
            let config = try ConfigLoader.load(path: "\(repositoryRoot)/config/ladderwire.json", environment: environment, variables: variables)
            #expect(config.allowAnonymousViewers == false && config.durability == "full")
            let embedded = ConfigLoader.defaults(for: ServerConfig.Environment(rawValue: environment)!)
            #expect(embedded.allowAnonymousViewers == false && embedded.durability == "full")
        }
    }

    @Test func environmentComesFromFlagThenVariableThenSim() throws {
        #expect(try ConfigLoader.resolveEnvironment(flag: nil, variables: [:]) == .sim)
        #expect(try ConfigLoader.resolveEnvironment(flag: nil, variables: ["LADDERWIRE_ENV": "uat"]) == .uat)
        #expect(try ConfigLoader.resolveEnvironment(flag: "live", variables: ["LADDERWIRE_ENV": "uat"]) == .live)
        #expect(throws: ConfigError(path: "LADDERWIRE_ENV", message: "bad value 'prod' (allowed: sim, uat, live)")) {
            try ConfigLoader.resolveEnvironment(flag: nil, variables: ["LADDERWIRE_ENV": "prod"])
        }
        #expect(throws: ConfigError(path: "--env", message: "bad value 'liev'; did you mean 'live'? (allowed: sim, uat, live)")) {
            try ConfigLoader.resolveEnvironment(flag: "liev", variables: [:])
        }
    }

    @Test func environmentSectionOverridesShared() throws {
        let config = try ConfigLoader.parse(text: """
            {"shared": {"port": 9000, "host": "0.0.0.0"}, "uat": {"port": 9100}}
            """, file: "x.json", environment: .uat)
        #expect(config.port == 9100)
        #expect(config.host == "0.0.0.0")
        #expect(config.databasePath == "var/ladderwire-uat.db")
    }

    @Test func unknownKeyNamesThePathAndSuggests() {
        let failure = error(#"{"live": {"sources": {"tt": {"pollSecond": 5}}}}"#)
        #expect(failure?.path == "live.sources.tt.pollSecond")
        #expect(failure?.message.hasPrefix("unknown key; did you mean 'pollSeconds'?") == true)
        #expect(error(#"{"shared": {"prot": 1}}"#)?.message.hasPrefix("unknown key; did you mean 'port'?") == true)
        #expect(error(#"{"staging": {}}"#)?.path == "staging")
    }

    @Test func wrongTypeNamesExpectedAndFound() {
        #expect(error(#"{"live": {"sources": {"tt": {"pollSeconds": "5"}}}}"#)
                == ConfigError(path: "live.sources.tt.pollSeconds", message: "wrong type: expected an integer, found string"))
        #expect(error(#"{"shared": {"echo": 1}}"#)
                == ConfigError(path: "shared.echo", message: "wrong type: expected true or false, found number"))
        #expect(error(#"{"shared": {"port": 80.5}}"#)
                == ConfigError(path: "shared.port", message: "wrong type: expected an integer, found 80.5"))
        #expect(error(#"{"sim": {"sources": {"enabled": "replay"}}}"#)
                == ConfigError(path: "sim.sources.enabled", message: "wrong type: expected an array of strings, found string"))
        #expect(error(#"{"sim": {"sources": {"sim": {"instruments": [{"symbol": "ZNZ6", "tick": 0.015625, "start": "110.5"}]}}}}"#)?.path
                == "sim.sources.sim.instruments[0].tick")
        #expect(error(#"{"shared": []}"#) == ConfigError(path: "shared", message: "wrong type: expected an object, found array"))
    }

    @Test func portOutOfRange() {
        #expect(error(#"{"uat": {"port": 70000}}"#)
                == ConfigError(path: "uat.port", message: "out of range: 70000 (allowed 0...65535)"))
        #expect(error(#"{"shared": {"port": -1}}"#)?.path == "shared.port")
    }

    @Test func badEnumValues() {
        #expect(error(#"{"shared": {"durability": "ful"}}"#)
                == ConfigError(path: "shared.durability", message: "bad value 'ful'; did you mean 'full'? (allowed: normal, full)"))
        #expect(error(#"{"live": {"sources": {"tt": {"environment": "prod"}}}}"#)?.path == "live.sources.tt.environment")
        #expect(error(#"{"sim": {"sources": {"enabled": ["replay", "simm"]}}}"#)
                == ConfigError(path: "sim.sources.enabled[1]", message: "bad value 'simm'; did you mean 'sim'? (allowed: replay, sim, tt, ttorders, ttrecon)"))
    }

    @Test func otherEnvironmentsAreCheckedToo() {
        // A typo in `live` is reported while loading `sim`, not on the day live is started.
        #expect(error(#"{"live": {"hots": "x"}}"#, environment: .sim)?.path == "live.hots")
    }

    @Test func simulatorStartMustBeOnTheGrid() {
        let failure = error(#"{"sim": {"sources": {"sim": {"instruments": [{"symbol": "ZNZ6", "tick": "0.015625", "start": "110.51"}]}}}}"#)
        #expect(failure == ConfigError(path: "sim.sources.sim.instruments[0].start", message: "110.51 is not on the 0.015625 tick grid"))
    }

    @Test func missingRequiredValues() throws {
        var config = ServerConfig()
        config.environment = .uat
        config.sources = ["tt"]
        #expect(throws: ConfigError(path: "uat.sources.tt.baseURL", message: "missing required value: the tt source is enabled")) {
            try ConfigLoader.validate(config)
        }
        config.monitors.tt.baseURL = "https://ttrestapi.trade.tt"
        #expect((try? ConfigLoader.validate(config)) == nil)
        #expect(throws: ConfigError.self) { try ConfigLoader.validate(config) }
        do { try ConfigLoader.validate(config) } catch { #expect(error.path == "LADDERWIRE_TT_APP_KEY") }
        config.monitors.tt.appKey = Secret("k")
        do { try ConfigLoader.validate(config) } catch { #expect(error.path == "LADDERWIRE_TT_APP_SECRET") }
        config.monitors.tt.appSecret = Secret("s")
        try ConfigLoader.validate(config)
        config.tlsCert = "cert.pem"
        do { try ConfigLoader.validate(config); Issue.record("expected an error") } catch { #expect(error.path == "uat.tlsKey") }
    }

    @Test func unreadableOrMissingFile() throws {
        let folder = TemporaryDirectory(); defer { folder.remove() }
        #expect(throws: ConfigError(path: folder.file("nope.json"), message: "config file not found (check the --config path; relative paths start at the current directory)")) {
            try ConfigLoader.load(path: folder.file("nope.json"), environment: nil, variables: [:])
        }
        let broken = folder.write("broken.json", "{\"shared\": {\"port\": 80,}}")
        do {
            _ = try ConfigLoader.load(path: broken, environment: nil, variables: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.path == broken)
            #expect(error.message == "invalid JSON at line 1, column 24: expected a quoted key")
        }
        if getuid() != 0 {   // root reads anything
            let locked = folder.write("locked.json", "{}", mode: 0o000)
            #expect(throws: ConfigError(path: locked, message: "cannot read the config file (check its permissions for this user)")) {
                try ConfigLoader.load(path: locked, environment: nil, variables: [:])
            }
        }
    }

    @Test func secretsAreRefusedInTheConfigFile() {
        let failure = error(#"{"live": {"sources": {"tt": {"appSecret": "hunter2"}}}}"#)
        #expect(failure?.path == "live.sources.tt.appSecret")
        #expect(failure?.message.hasPrefix("secrets are never read from the config file") == true)
        #expect(failure?.description.contains("hunter2") == false)
    }

    @Test func secretsFileMustBePrivate() throws {
        let folder = TemporaryDirectory(); defer { folder.remove() }
        let open = folder.write("tt-secrets.json", #"{"appKey": "k1", "appSecret": "s1"}"#, mode: 0o644)
        var config = ServerConfig()
        do {
            try ConfigLoader.loadSecrets(into: &config, variables: [ConfigLoader.secretsFileVariable: open])
            Issue.record("expected an error")
        } catch {
            #expect(error.path == open)
            #expect(error.message == "is readable by group or others (mode 644); run chmod 600 \(open)")
        }
        chmod(open, 0o600)
        try ConfigLoader.loadSecrets(into: &config, variables: [ConfigLoader.secretsFileVariable: open])
        #expect(config.monitors.tt.appKey?.reveal() == "k1")
        #expect(config.monitors.tt.appSecret?.reveal() == "s1")
        // Environment variables win over the file.
        try ConfigLoader.loadSecrets(into: &config, variables: [ConfigLoader.secretsFileVariable: open, ConfigLoader.appKeyVariable: "env-key"])
        #expect(config.monitors.tt.appKey?.reveal() == "env-key")
    }

    @Test func checkOutputMasksSecrets() throws {
        var config = ServerConfig()
        config.monitors.tt.appKey = Secret("very-secret-key")
        config.monitors.tt.appSecret = Secret("very-secret-secret")
        let text = config.redactedDescription()
        #expect(!text.contains("very-secret"))
        #expect(text.contains(#""appKey": "****""#))
        #expect(text.contains(#""appSecret": "****""#))
        #expect("\(config)".contains("very-secret") == false)
        // The rendering is valid JSON with the file's key names.
        let json = try JSONValue.parse(text)
        #expect(json["port"] == .int(8080))
        #expect(json["sources"]?["enabled"] == .array([.string("replay")]))
        // Unset secrets show as null, not as a mask.
        #expect(ServerConfig().redactedJSON()["sources"]?["tt"]?["appKey"] == .null)
    }

    @Test func checkOutputIsIndentedAndRoundTrips() throws {
        let config = ServerConfig()
        let text = config.redactedDescription()
        #expect(try JSONValue.parse(text) == config.redactedJSON())
        #expect(text.hasPrefix("{\n  \"environment\": \"sim\",\n"))
        #expect(text.contains(#""enabled": ["replay"]"#))   // plain lists stay on one line
        #expect(JSONValue.object([("a", .array([])), ("b", .object([]))]).prettyRendered == "{\n  \"a\": [],\n  \"b\": {}\n}")
    }

    @Test func integersAndRatesAcceptEveryExactNumberForm() throws {
        let config = try ConfigLoader.parse(text: #"{"shared": {"port": 8.08e3, "sources": {"replay": {"speed": 2}, "sim": {"maxQty": 5.0}}}}"#,
                                            file: "x", environment: .sim)
        #expect(config.port == 8080)
        #expect(config.monitors.replay.speed == 2)
        #expect(config.monitors.sim.maxQty == 5)
        #expect(error(#"{"shared": {"port": 80.5}}"#) == ConfigError(path: "shared.port", message: "wrong type: expected an integer, found 80.5"))
        #expect(error(#"{"shared": {"port": "80"}}"#) == ConfigError(path: "shared.port", message: "wrong type: expected an integer, found string"))
    }

    @Test func commentKeysAreIgnored() throws {
        let config = try ConfigLoader.parse(text: #"{"//": "note", "shared": {"// why": "x", "port": 1234}}"#, file: "x", environment: .sim)
        #expect(config.port == 1234)
    }
}
