import Foundation

/// Files that hold credentials (the TT secrets file, the cached token): read only when no one but
/// the owner can read them, written with mode 0600 from the first byte (never chmod-ed after).
public enum PrivateFile {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// The file's contents, or nil when it does not exist. Throws when it is readable by group or
    /// others, or unreadable.
    public static func read(_ path: String) throws(Failure) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw Failure(path: path, message: "cannot stat: \(String(cString: strerror(errno)))")
        }
        let mode = info.st_mode & 0o777
        if mode & 0o077 != 0 {
            throw Failure(path: path, message: "is readable by group or others (mode \(String(mode, radix: 8))); run chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(path: path, message: "cannot read the file")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Replaces the file atomically (temporary file + rename), mode 0600, creating parent folders.
    public static func write(_ text: String, to path: String) throws(Failure) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            catch { throw Failure(path: path, message: "cannot create folder \(folder): \(error)") }
        }
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw Failure(path: path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(temporary)
            throw Failure(path: path, message: "cannot write: \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(path: path, message: "cannot replace: \(reason)")
        }
    }
}
