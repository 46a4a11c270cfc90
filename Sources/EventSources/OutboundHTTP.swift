import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One outbound HTTP call made by a poller. Header names are matched case-insensitively.
public struct OutboundRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: String?
    public init(method: String, url: String, headers: [String: String] = [:], body: String? = nil) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
    }
}

public struct OutboundReply: Sendable, Equatable {
    public var status: Int
    /// Lower-cased header names.
    public var headers: [String: String]
    public var body: String
    public init(status: Int, headers: [String: String] = [:], body: String) {
        self.status = status; self.headers = headers; self.body = body
    }
}

/// Blocking HTTP client used from a monitor thread; throws `TTError.network` when no reply came.
public protocol OutboundHTTP: Sendable {
    func send(_ request: OutboundRequest, timeoutSeconds: Int) throws(TTError) -> OutboundReply
}

/// `URLSession` behind a semaphore: fine on a monitor's own thread, which has nothing else to do.
public final class URLSessionTransport: OutboundHTTP {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    public func send(_ request: OutboundRequest, timeoutSeconds: Int) throws(TTError) -> OutboundReply {
        guard let url = URL(string: request.url) else { throw TTError.notConfigured("invalid URL \(request.url)") }
        var urlRequest = URLRequest(url: url, timeoutInterval: TimeInterval(timeoutSeconds))
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body.map { Data($0.utf8) }

        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        let task = session.dataTask(with: urlRequest) { data, response, error in
            if let error {
                outcome.set(.failure(.network(error.localizedDescription)))
            } else if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (name, value) in http.allHeaderFields {
                    if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
                }
                outcome.set(.success(OutboundReply(status: http.statusCode, headers: headers,
                                                   body: String(decoding: data ?? Data(), as: UTF8.self))))
            } else {
                outcome.set(.failure(.network("no HTTP response")))
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + .seconds(timeoutSeconds + 5)) == .timedOut {
            task.cancel()
            throw TTError.network("timed out after \(timeoutSeconds) s")
        }
        return try outcome.get()
    }
}

/// The completion handler's result, handed across threads.
private final class OutcomeBox: Sendable {
    private let value = Mutex<Result<OutboundReply, TTError>>(.failure(.network("no answer")))
    func set(_ result: Result<OutboundReply, TTError>) { value.withLock { $0 = result } }
    func get() throws(TTError) -> OutboundReply { try value.withLock { $0 }.get() }
}
