import TestSupport
@testable import HTTPCore

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Parses `text` fed in one piece; returns the requests and the error that stopped parsing, if any.
func parseAll(_ text: String, limits: HTTPLimits = HTTPLimits()) -> (requests: [HTTPRequest], error: HTTPError?) {
    parseAll(bytes(text), limits: limits)
}

func parseAll(_ input: [UInt8], limits: HTTPLimits = HTTPLimits(), chunkSize: Int? = nil) -> (requests: [HTTPRequest], error: HTTPError?) {
    var parser = HTTPRequestParser(limits: limits)
    var requests: [HTTPRequest] = []
    var failure: HTTPError?
    feedInChunks(input, size: chunkSize) { chunk in
        parser.feed(chunk)
        do throws(HTTPError) {
            while let request = try parser.nextRequest() { requests.append(request) }
            return true
        } catch {
            failure = error
            return false
        }
    }
    return (requests, failure)
}

/// The status of the error `text` produces, or nil if it parses.
func errorStatus(_ text: String, limits: HTTPLimits = HTTPLimits()) -> Int? {
    parseAll(text, limits: limits).error?.status
}
