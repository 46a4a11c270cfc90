import Testing
@testable import HTTPCore

@Suite struct StaticPathTests {
    @Test(arguments: [
        ("/", "index.html"),
        ("/app.js", "app.js"),
        ("/css/site.css", "css/site.css"),
        ("/docs/", "docs/index.html"),
        ("/a%20b.txt", "a b.txt"),
        ("/caf%C3%A9.html", "café.html"),
        ("/x..y.js", "x..y.js"),
    ])
    func safePathsMapUnderTheRoot(path: String, expected: String) {
        #expect(StaticPath.relativePath(forRequestPath: path) == expected)
    }

    @Test(arguments: [
        "/..", "/../etc/passwd", "/a/../../etc/passwd", "/a/..",
        "/%2e%2e/etc/passwd", "/%2E%2e/x", "/%2e%2E/x", "/.%2e/x", "/%2e./x",
        "/..%2fetc%2fpasswd", "/..%2Fx", "/a%2f..%2f..%2fx", "/a%2Fb",
        "/%5c..%5cwindows", "/..\\x", "/a\\b", "/%5C",
        "/a%00.html", "/a\u{0}b", "/%0a", "/%7f",
        "//etc/passwd", "/a//b", "///",
        "/C:/windows/win.ini", "/c:", "/C%3A/x",
        "/%zz", "/%2", "/%",
        "/%ff%fe", "/%c0%af", "/%C0%AE%C0%AE/x",
        "/.", "/./x", "/.git/config", "/.env",
        "relative", "",
    ])
    func suspiciousPathsAreRefused(path: String) {
        #expect(StaticPath.relativePath(forRequestPath: path) == nil)
    }

    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8"),
        ("app.JS", "text/javascript; charset=utf-8"),
        ("mod.mjs", "text/javascript; charset=utf-8"),
        ("site.css", "text/css; charset=utf-8"),
        ("data.json", "application/json"),
        ("logo.png", "image/png"),
        ("icon.svg", "image/svg+xml"),
        ("favicon.ico", "image/x-icon"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("font.woff2", "font/woff2"),
        ("app.js.map", "application/json"),
        ("archive.tar", "application/octet-stream"),
        ("README", "application/octet-stream"),
        ("dir.d/file", "application/octet-stream"),
    ])
    func contentTypes(name: String, expected: String) {
        #expect(StaticPath.contentType(forFileName: name) == expected)
    }

    @Test func percentDecodingRejectsBrokenEscapes() {
        #expect(percentDecode("a%41%2f+b") == Array("aA/+b".utf8))
        #expect(percentDecode("a+b", plusAsSpace: true) == Array("a b".utf8))
        #expect(percentDecode("%4") == nil)
        #expect(percentDecode("%g1") == nil)
        #expect(percentDecode("100%") == nil)
    }
}
