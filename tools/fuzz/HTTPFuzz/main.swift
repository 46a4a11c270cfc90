// libFuzzer harness for HTTPRequestParser (compiled together with Sources/HTTPCore by
// tools/fuzz/build.sh, so internal names are visible). Invariants checked on every input:
// - no crash, no sanitizer report, no infinite loop;
// - every error is a 4xx/5xx status with a non-empty reason;
// - the outcome does not depend on how the bytes are split: feeding everything at once and
//   feeding in chunks (sizes taken from the input itself) yield the same requests and error;
// - a returned request respects the limits and its body has the Content-Length it announced.

struct Outcome: Equatable {
    var requests: [String] = []
    var error: HTTPError?
    var leftover = 0
}

func summary(_ request: HTTPRequest) -> String {
    let headers = request.headers.fields.map { "\($0.name)=\($0.value)" }.joined(separator: "|")
    return "\(request.method) \(request.target) \(request.versionMinor) \(headers) \(request.body)"
}

func fuzzLimits() -> HTTPLimits {
    var limits = HTTPLimits()
    limits.maxRequestLine = 64
    limits.maxHeaderBytes = 256
    limits.maxHeaderCount = 8
    limits.maxBodyBytes = 16
    limits.allowBody(method: "POST", path: "/api/fills", maxBytes: 512)
    return limits
}

func drain(_ parser: inout HTTPRequestParser, into outcome: inout Outcome) {
    while outcome.error == nil {
        do {
            guard let request = try parser.nextRequest() else {
                _ = parser.takeContinueRequest()
                return
            }
            check(request, limits: parser.limits)
            outcome.requests.append(summary(request))
        } catch {
            precondition((400...599).contains(error.status), "status \(error.status) is not an error status")
            precondition(!error.reason.isEmpty, "empty reason")
            // A failed parser keeps failing with the same error.
            do { _ = try parser.nextRequest(); preconditionFailure("parser recovered after an error") }
            catch let again { precondition(again == error, "different error on retry") }
            outcome.error = error
        }
    }
}

func check(_ request: HTTPRequest, limits: HTTPLimits) {
    precondition(request.body.count <= limits.maxBodyBytes(method: request.method, path: request.path))
    precondition(request.versionMinor == 0 || request.versionMinor == 1)
    precondition(request.headers.count <= limits.maxHeaderCount)
    if let length = request.headers["content-length"] {
        precondition(Int(length.split(separator: ",").first.map { trimmingWhitespace($0) } ?? "") == request.body.count)
    } else {
        precondition(request.body.isEmpty)
    }
    _ = request.keepAlive
    _ = StaticPath.relativePath(forRequestPath: request.path)
    let encoded = HTTPResponse.text(200, request.path).encode(includeBody: request.method != "HEAD", keepAlive: request.keepAlive)
    precondition(encoded.starts(with: Array("HTTP/1.1 200 OK\r\n".utf8)))
}

func checkStaticPath(_ data: [UInt8]) {
    let text = String(decoding: data, as: UTF8.self)
    guard let relative = StaticPath.relativePath(forRequestPath: "/" + text) else { return }
    let segments = relative.split(separator: "/", omittingEmptySubsequences: false)
    precondition(!relative.hasPrefix("/"), "absolute result \(relative)")
    for segment in segments {
        precondition(!segment.isEmpty && segment != "." && segment != "..", "unsafe segment in \(relative)")
        precondition(!segment.contains("\\") && !segment.contains("\0") && !segment.contains(":"), "unsafe byte in \(relative)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Array(UnsafeBufferPointer(start: start, count: count))
    guard let control = data.first else { return 0 }
    let input = Array(data.dropFirst())
    checkStaticPath(input)
    _ = percentDecode(String(decoding: input, as: UTF8.self), plusAsSpace: true)

    var whole = HTTPRequestParser(limits: fuzzLimits())
    var wholeOutcome = Outcome()
    whole.feed(input)
    drain(&whole, into: &wholeOutcome)
    wholeOutcome.leftover = wholeOutcome.error == nil ? whole.bufferedByteCount : 0

    var chunked = HTTPRequestParser(limits: fuzzLimits())
    var chunkedOutcome = Outcome()
    var offset = 0
    var step = Int(control % 7) + 1
    while offset < input.count && chunkedOutcome.error == nil {
        let size = min(step, input.count - offset)
        chunked.feed(input[offset..<offset + size])
        offset += size
        drain(&chunked, into: &chunkedOutcome)
        step = step % 13 + Int(input[offset - 1] % 3) + 1
    }
    chunkedOutcome.leftover = chunkedOutcome.error == nil ? chunked.bufferedByteCount : 0
    precondition(wholeOutcome == chunkedOutcome, "outcome depends on chunking: \(wholeOutcome) vs \(chunkedOutcome)")
    return 0
}
