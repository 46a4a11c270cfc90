import ConfigFiles
import EventSources
import Foundation

/// Builds the effective ServerConfig: embedded defaults, then the file's `shared` section, then
/// the chosen environment's section (`sim`, `uat`, `live`), then secrets from the environment or
/// a 0600 secrets file. The CLI applies its flags afterwards and calls `validate` again.
public enum ConfigLoader {
    public static let environmentVariable = "LADDERWIRE_ENV"
    public static let appKeyVariable = "LADDERWIRE_TT_APP_KEY"
    public static let appSecretVariable = "LADDERWIRE_TT_APP_SECRET"
    public static let secretsFileVariable = "LADDERWIRE_TT_SECRETS_FILE"
    static let topLevelKeys = ["shared"] + ServerConfig.Environment.allCases.map(\.rawValue)

    /// - Parameters:
    ///   - path: `--config`; nil uses the default file (`ConfigPaths.defaultConfigFile`: the installed
    ///     `<bin>/../etc/ladderwire/ladderwire.json`, else `config/ladderwire.json` of the install
    ///     root), else the embedded defaults. An explicitly named file that cannot be read is an error.
    ///   - environment: `--env`; nil falls back to `LADDERWIRE_ENV`, then `sim`.
    ///   - defaultFile: where to look when `path` is nil (tests point it elsewhere); nil searches.
    ///   - root: the install root that paths left at their defaults resolve against (nil: the
    ///     current directory). Paths written in the file resolve against the file's folder.
    public static func load(path: String?, environment: String?,
                            variables: [String: String] = ProcessInfo.processInfo.environment,
                            defaultFile: String? = nil,
                            root: String? = ConfigPaths.installRoot()) throws(ConfigError) -> ServerConfig {
        let chosen = try resolveEnvironment(flag: environment, variables: variables)
        let filePath = path ?? defaultFile ?? ConfigPaths.defaultConfigFile(installRoot: root)
        var text: String?
        if let filePath {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: filePath, isDirectory: &isDirectory)
            if exists && isDirectory.boolValue {
                throw ConfigError(path: filePath, message: "is a folder, not a config file (name the .json file with --config)")
            } else if let data = FileManager.default.contents(atPath: filePath) {
                text = String(decoding: data, as: UTF8.self)
            } else if path == nil && !exists {
                text = nil   // no file: the embedded defaults
            } else if exists {
                throw ConfigError(path: filePath, message: "cannot read the config file (check its permissions for this user)")
            } else {
                throw ConfigError(path: filePath, message: "config file not found (check the --config path; relative paths start at the current directory)")
            }
        }
        var config = try text.map { (text: String) throws(ConfigError) in
            try parse(text: text, file: filePath ?? "", environment: chosen, base: ConfigPaths.folder(of: filePath ?? "."))
        } ?? defaults(for: chosen)
        if text != nil, let filePath { config.configFolder = ConfigPaths.folder(of: filePath) }
        config = config.resolvingPaths(against: root)
        try loadSecrets(into: &config, variables: variables)
        try validate(config)
        return config
    }

    /// The embedded defaults with the environment set (what `serve` runs with no file at all).
    public static func defaults(for environment: ServerConfig.Environment) -> ServerConfig {
        var config = ServerConfig()
        config.environment = environment
        if environment != .sim {
            config.databasePath = "var/ladderwire-\(environment.rawValue).db"
            config.scheduledDayRoll = true
            // A desk's environments: tokens only, and every acknowledged fill survives power loss.
            config.allowAnonymousViewers = false
            config.durability = "full"
        }
        return config
    }

    /// `--env` first, then `LADDERWIRE_ENV`, then `sim`.
    public static func resolveEnvironment(flag: String?, variables: [String: String]) throws(ConfigError) -> ServerConfig.Environment {
        let (origin, raw): (String, String?) = flag != nil ? ("--env", flag) : (environmentVariable, variables[environmentVariable])
        guard let raw, !raw.isEmpty else { return .sim }
        guard let environment = ServerConfig.Environment(rawValue: raw) else {
            let names = ServerConfig.Environment.allCases.map(\.rawValue)
            let hint = closestName(to: raw, among: names).map { "; did you mean '\($0)'?" } ?? ""
            throw ConfigError(path: origin, message: "bad value '\(raw)'\(hint) (allowed: \(names.joined(separator: ", ")))")
        }
        return environment
    }

    /// Reads the file's text. Every section is checked (a typo in `live` is caught while running
    /// `sim`), but only `shared` and the chosen environment's section are applied.
    /// Paths in the file resolve against `base` (the file's folder) when it is given.
    public static func parse(text: String, file: String, environment: ServerConfig.Environment,
                             base: String? = nil) throws(ConfigError) -> ServerConfig {
        let json = try ConfigJSON.parse(text, file: file)
        var root = try ConfigSection(json, path: "")
        root.base = base
        try root.checkKeys(topLevelKeys)
        for other in ServerConfig.Environment.allCases where other != environment {
            if let section = try root.section(other.rawValue) {
                var scratch = defaults(for: other)
                try ConfigSchema.apply(section, to: &scratch)
            }
        }
        var config = defaults(for: environment)
        if let shared = try root.section("shared") { try ConfigSchema.apply(shared, to: &config) }
        if let section = try root.section(environment.rawValue) { try ConfigSchema.apply(section, to: &config) }
        return config
    }

    /// TT app key and secret: environment variables win; else `sources.tt.secretsFile` (or
    /// `LADDERWIRE_TT_SECRETS_FILE`), a JSON `{"appKey": …, "appSecret": …}` readable only by its owner.
    public static func loadSecrets(into config: inout ServerConfig, variables: [String: String]) throws(ConfigError) {
        if let file = variables[secretsFileVariable].flatMap({ $0.isEmpty ? nil : $0 }) ?? config.monitors.tt.secretsFile {
            config.monitors.tt.secretsFile = file
            let text: String?
            do { text = try PrivateFile.read(file) } catch { throw ConfigError(path: file, message: error.message) }
            guard let text else { throw ConfigError(path: file, message: "secrets file not found") }
            let json = try ConfigJSON.parse(text, file: file)
            let section = try ConfigSection(json, path: file)
            try section.checkKeys(["appKey", "appSecret"])
            if let key = try section.nonEmptyString("appKey") { config.monitors.tt.appKey = Secret(key) }
            if let secret = try section.nonEmptyString("appSecret") { config.monitors.tt.appSecret = Secret(secret) }
        }
        if let key = variables[appKeyVariable], !key.isEmpty { config.monitors.tt.appKey = Secret(key) }
        if let secret = variables[appSecretVariable], !secret.isEmpty { config.monitors.tt.appSecret = Secret(secret) }
    }

    /// Checks that hold across keys; run again by the CLI after applying flags. Paths name the key
    /// in the chosen environment's section, where a fix belongs.
    public static func validate(_ config: ServerConfig) throws(ConfigError) {
        let section = config.environment.rawValue
        guard (0...65_535).contains(config.port) else {
            throw ConfigError(path: "\(section).port", message: "out of range: \(config.port) (allowed 0...65535, 0 = any free port)")
        }
        for (index, name) in config.sources.enumerated() where !MonitorsConfig.knownSources.contains(name) {
            let hint = closestName(to: name, among: MonitorsConfig.knownSources).map { "; did you mean '\($0)'?" } ?? ""
            throw ConfigError(path: "\(section).sources.enabled[\(index)]",
                              message: "bad value '\(name)'\(hint) (allowed: \(MonitorsConfig.knownSources.joined(separator: ", ")))")
        }
        switch (config.tlsCert, config.tlsKey) {
        case (.some, nil): throw ConfigError(path: "\(section).tlsKey", message: "missing required value: tlsCert is set, so tlsKey is needed")
        case (nil, .some): throw ConfigError(path: "\(section).tlsCert", message: "missing required value: tlsKey is set, so tlsCert is needed")
        default: break
        }
        if config.sources.contains(where: { ["tt", "ttorders", "ttrecon"].contains($0) }) {
            let tt = config.monitors.tt
            guard !tt.baseURL.isEmpty else {
                throw ConfigError(path: "\(section).sources.tt.baseURL", message: "missing required value: the tt source is enabled")
            }
            guard tt.appKey != nil else {
                throw ConfigError(path: appKeyVariable, message: "missing required value: the tt source needs the TT app key (or sources.tt.secretsFile)")
            }
            guard tt.appSecret != nil else {
                throw ConfigError(path: appSecretVariable, message: "missing required value: the tt source needs the TT app secret (or sources.tt.secretsFile)")
            }
        }
    }
}
