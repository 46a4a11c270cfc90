import Foundation

/// Where relative paths point, so the binary runs from any directory (a service manager starts
/// it from `/`):
/// - a path written in a config file resolves against that file's folder;
/// - a path left at its built-in default (`config/instruments.json`, `static`, `var/…`) resolves
///   against the **install root**: the checkout the binary was built in, or `PREFIX/share/ladderwire`
///   for a binary installed by `tools/install` into `PREFIX/bin`;
/// - a path given as a command-line flag (`--db`, `--static`, `--config`) is the shell's, relative
///   to the current directory.
public enum ConfigPaths {
    /// `path` made absolute against `base` (a folder), with `.` and `..` folded; absolute paths
    /// and `base == nil` leave it as it is (apart from folding).
    public static func resolve(_ path: String, against base: String?) -> String {
        guard !path.isEmpty else { return path }
        if path.hasPrefix("/") { return normalize(path) }
        guard let base, !base.isEmpty else { return path }
        return normalize(base + "/" + path)
    }

    /// Folds `.`, `..` and repeated slashes of an absolute path (symbolic links are left alone).
    public static func normalize(_ path: String) -> String {
        guard path.hasPrefix("/") else { return path }
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folder holding `file`, absolute (a relative file is taken from the current directory).
    public static func folder(of file: String) -> String {
        let absolute = resolve(file, against: FileManager.default.currentDirectoryPath)
        guard let slash = absolute.lastIndex(of: "/"), slash != absolute.startIndex else { return "/" }
        return String(absolute[..<slash])
    }

    /// The running executable's folder (from `/proc/self/exe`, so symbolic links to it are followed).
    public static var executableFolder: String? {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), target.hasPrefix("/") {
            return folder(of: target)
        }
        return CommandLine.arguments.first.map(folder(of:))
    }

    /// The install root for built-in defaults: `<bin>/../share/ladderwire` when the binary was
    /// installed there, else the nearest folder above the binary holding `config/instruments.json`
    /// (a build in a checkout: `.build/<triple>/debug`); nil when neither exists (relative
    /// defaults then stay relative to the current directory).
    public static func installRoot(executableFolder: String? = executableFolder) -> String? {
        guard let bin = executableFolder else { return nil }
        let marker = "config/instruments.json"
        let share = resolve("../share/ladderwire", against: bin)
        if FileManager.default.fileExists(atPath: share + "/" + marker) { return share }
        var folder = bin
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: folder + "/" + marker) { return folder }
            guard folder != "/" else { break }
            folder = resolve("..", against: folder)
        }
        return nil
    }

    /// The config file `serve` reads with no `--config`: `<bin>/../etc/ladderwire/ladderwire.json`
    /// (written by `tools/install`), else `config/ladderwire.json` under the install root; nil
    /// when neither exists (the compiled-in defaults are used).
    public static func defaultConfigFile(executableFolder: String? = executableFolder,
                                         installRoot: String? = nil) -> String? {
        if let bin = executableFolder {
            let installed = resolve("../etc/ladderwire/ladderwire.json", against: bin)
            if FileManager.default.fileExists(atPath: installed) { return installed }
        }
        if let root = installRoot ?? ConfigPaths.installRoot(executableFolder: executableFolder) {
            let shipped = root + "/config/ladderwire.json"
            if FileManager.default.fileExists(atPath: shipped) { return shipped }
        }
        return nil
    }
}

extension ServerConfig {
    /// Every relative path of this configuration resolved against `base` (see `ConfigPaths`).
    /// The tokens and TT token files that are only implied by default get their resolved name too.
    public func resolvingPaths(against base: String?) -> ServerConfig {
        guard let base else { return self }
        var copy = self
        func fix(_ path: inout String) { path = ConfigPaths.resolve(path, against: base) }
        func fix(_ path: inout String?) { path = path.map { ConfigPaths.resolve($0, against: base) } }
        fix(&copy.staticDir)
        fix(&copy.databasePath)
        fix(&copy.instrumentsFile)
        fix(&copy.accountsFile)
        fix(&copy.tokensFile)
        fix(&copy.tlsCert)
        fix(&copy.tlsKey)
        fix(&copy.monitors.replay.file)
        fix(&copy.monitors.tt.tokenFile)
        fix(&copy.monitors.tt.secretsFile)
        if copy.monitors.tt.tokenFile == nil {   // the TT token cache lives beside the database
            let folder = copy.databasePath.contains("/") ? ConfigPaths.folder(of: copy.databasePath) : base
            copy.monitors.tt.tokenFile = folder + "/tt-token.\(monitors.tt.environment).json"
        }
        copy.defaultsRoot = base
        return copy
    }
}
