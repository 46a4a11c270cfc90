import Glibc

/// Reads a whole configuration file as UTF-8 text. Plain POSIX rather than Foundation so the
/// reason a file cannot be read is the system's own words ("No such file or directory").
public enum TextFile {
    public static func read(_ path: String) throws(ConfigError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(path)
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func failure(_ path: String) -> ConfigError {
        ConfigError(file: path, path: "", message: "cannot read: \(String(cString: strerror(errno)))")
    }
}
