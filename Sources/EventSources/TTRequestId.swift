import Foundation

/// TT asks for `requestId=<app>-<company>--<uuid>` on every call, to trace a request in support.
func ttRequestId(app: String, company: String) -> String {
    "\(app)-\(company)--\(UUID().uuidString.lowercased())"
}

/// Percent-encoding for query values and form fields (RFC 3986 unreserved characters kept).
func formEncoded(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
