/// Why a TT call failed. `isTransient` errors are retried with backoff while the monitor reports
/// `degraded`; the others need a configuration change.
public enum TTError: Error, Sendable, Equatable, CustomStringConvertible {
    case notConfigured(String)
    case network(String)
    /// A non-2xx reply (429 and 5xx are transient; `retryAfterSeconds` from `Retry-After`).
    case status(code: Int, retryAfterSeconds: Int64?, detail: String)
    case malformedReply(String)
    /// Still 401 after one token refresh.
    case unauthorized(String)
    case tokenFile(String)
    /// The server could not store a page (`storage_error`): the cursor stays, the page is asked
    /// for again after the backoff, so nothing is skipped.
    case storage(String)
    /// A paged read could not be followed to its last page (a page said there was more but gave
    /// no key, repeated a key, or the pages never ended): the poll stores nothing, because a
    /// working set missing its later pages would turn every order on them into a cancel.
    case incompletePages(String)
    case stopped

    public var isTransient: Bool {
        switch self {
        case .network, .malformedReply, .unauthorized, .storage, .incompletePages: return true
        case .status(let code, _, _): return code == 429 || code == 408 || code >= 500
        case .notConfigured, .tokenFile, .stopped: return false
        }
    }

    public var retryAfterSeconds: Int64? {
        if case .status(_, let seconds, _) = self { return seconds }
        return nil
    }

    public var description: String {
        switch self {
        case .notConfigured(let detail): return "TT not configured: \(detail)"
        case .network(let detail): return "TT network error: \(detail)"
        case .status(let code, let retryAfter, let detail):
            return "TT answered HTTP \(code)" + (retryAfter.map { " (retry after \($0) s)" } ?? "") + (detail.isEmpty ? "" : ": \(detail)")
        case .malformedReply(let detail): return "TT reply malformed: \(detail)"
        case .unauthorized(let detail): return "TT refused the token after a refresh: \(detail)"
        case .tokenFile(let detail): return "TT token file: \(detail)"
        case .storage(let detail): return "fills not stored, will ask TT again: \(detail)"
        case .incompletePages(let detail): return "TT pages not read to the end, nothing submitted: \(detail)"
        case .stopped: return "stopped"
        }
    }
}
