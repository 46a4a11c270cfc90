import Foundation
import HTTPCore

/// Serves files under the static root: GET/HEAD, Content-Type, ETag/If-None-Match, Cache-Control.
///
/// Safety in two layers: `StaticPath` rejects every suspicious request path before the file
/// system is touched, then the resolved real path (symlinks followed) must still lie inside the
/// real root, so a symlink pointing out of `static/` is a 404 too.
struct StaticFiles {
    let root: String        // real path of the static directory

    init(directory: String) {
        let url = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath()
        root = url.path
    }

    func response(for request: HTTPRequest) -> HTTPResponse {
        guard let relative = StaticPath.relativePath(forRequestPath: request.path) else {
            return .text(404, "not found")
        }
        let candidate = URL(fileURLWithPath: root).appendingPathComponent(relative).resolvingSymlinksInPath().path
        guard candidate.hasPrefix(root + "/") else { return .text(404, "not found") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
              let attributes = try? FileManager.default.attributesOfItem(atPath: candidate),
              let data = FileManager.default.contents(atPath: candidate)
        else { return .text(404, "not found") }
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let etag = "\"\(String(data.count, radix: 16))-\(String(Int64(modified * 1000), radix: 16))\""
        var headers = HTTPHeaders([
            ("Content-Type", StaticPath.contentType(forFileName: candidate)),
            ("ETag", etag),
            // The page must pick up a new deploy at once, but may reuse a validated copy.
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
        ])
        if let ifNoneMatch = request.headers["if-none-match"],
           ifNoneMatch.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*" }) {
            headers.remove("Content-Type")
            return HTTPResponse(status: 304, headers: headers)
        }
        return HTTPResponse(status: 200, headers: headers, body: [UInt8](data))
    }
}
