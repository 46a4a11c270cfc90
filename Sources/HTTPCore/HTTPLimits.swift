/// Size limits for requests. Bodies are refused (413) unless a route allows them: the server
/// calls `allowBody(method:path:maxBytes:)` for e.g. `POST /api/fills`, and the parser asks
/// `maxBodyBytes(method:path:)` as soon as a head is complete, before reading any body byte.
/// A plain value (no closure) so the limits stay `Sendable` and comparable.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line, without CRLF (414 beyond).
    public var maxRequestLine = 8192
    /// Longest header block after the request line, CRLFs included (431 beyond).
    public var maxHeaderBytes = 65536
    /// Most header fields (431 beyond).
    public var maxHeaderCount = 100
    /// Body limit for every request no route allowance matches.
    public var maxBodyBytes = 0
    public private(set) var bodyAllowances: [BodyAllowance] = []

    public init() {}

    /// One route that may carry a body: exact method and exact (still-encoded) path.
    public struct BodyAllowance: Sendable, Equatable {
        public var method: String
        public var path: String
        public var maxBytes: Int
    }

    /// Allows bodies up to `maxBytes` for `method path`; a later call for the same route replaces it.
    public mutating func allowBody(method: String, path: String, maxBytes: Int) {
        bodyAllowances.removeAll { $0.method == method && $0.path == path }
        bodyAllowances.append(BodyAllowance(method: method, path: path, maxBytes: maxBytes))
    }

    /// The body limit for a request head.
    public func maxBodyBytes(method: String, path: String) -> Int {
        bodyAllowances.first { $0.method == method && $0.path == path }?.maxBytes ?? maxBodyBytes
    }
}
