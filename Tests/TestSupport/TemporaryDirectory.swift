import Foundation

/// A fresh directory under the system temporary directory per test, so tests run in parallel
/// without sharing files. Removed when the last reference goes (or by `remove()`).
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "ladderwire-tests") {
        path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` with the given permissions; returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: Int = 0o644) -> String {
        let target = file(name)
        _ = FileManager.default.createFile(atPath: target, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        chmod(target, mode_t(mode))
        return target
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    deinit { remove() }
}

/// The repository root (tests read the shipped config, instruments and feeds).
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
