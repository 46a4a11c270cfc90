/// Why a request was refused, with the status the peer must be told (like h11's
/// `error_status_hint`). After an error the connection must be closed: the parser stays failed.
public struct HTTPError: Error, Sendable, Equatable {
    public var status: Int
    public var reason: String

    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// The response to send before closing: the status and the one-line reason as text.
    public var response: HTTPResponse { .text(status, reason) }

    static func badRequest(_ reason: String) -> HTTPError { HTTPError(status: 400, reason: reason) }
}
