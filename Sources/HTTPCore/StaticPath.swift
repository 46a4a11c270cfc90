/// Pure path safety for serving files from a static root: the decision "which file, if any"
/// is made here on strings, so the server never hands a suspicious path to the file system.
public enum StaticPath {
    /// Decodes and normalises a request path into a relative path under the static root, or nil
    /// (→ 404) for anything suspicious. Rejected: a path not starting with `/`; invalid
    /// percent-encoding; a segment that decodes to `.`, `..` or anything starting with `.`
    /// (dotfiles are never served either); encoded or raw `/` `\` inside a segment (`%2f`, `%5c`,
    /// `..%2f`); NUL or other control bytes; `:` (drive letters, `C:`, alternate streams); empty
    /// segments (`//etc`, `/a//b`); non-UTF-8. `/` maps to `index.html`, `/dir/` to `dir/index.html`.
    public static func relativePath(forRequestPath path: String) -> String? {
        guard path.hasPrefix("/") else { return nil }
        var rawSegments = path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let isDirectory = rawSegments.last?.isEmpty ?? true
        if isDirectory { rawSegments.removeLast() }
        var segments: [String] = []
        for raw in rawSegments {
            guard let decoded = percentDecode(String(decoding: raw, as: UTF8.self)),
                  let first = decoded.first, first != UInt8(ascii: "."),
                  !decoded.contains(where: isForbiddenInSegment),
                  let segment = String(validating: decoded, as: UTF8.self)
            else { return nil }
            segments.append(segment)
        }
        if isDirectory { segments.append("index.html") }
        return segments.joined(separator: "/")
    }

    private static func isForbiddenInSegment(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\")
            || byte == UInt8(ascii: ":")
    }

    /// The Content-Type for a file name, by extension (case-insensitive).
    public static func contentType(forFileName name: String) -> String {
        guard let dot = name.lastIndex(of: "."), !name[name.index(after: dot)...].contains("/") else {
            return "application/octet-stream"
        }
        switch asciiLowercased(name[name.index(after: dot)...]) {
        case "html", "htm": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "json": return "application/json"
        case "map": return "application/json"
        case "txt": return "text/plain; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        default: return "application/octet-stream"
        }
    }
}
