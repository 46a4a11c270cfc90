// libFuzzer harness for RESPParser (compiled together with Sources/RESP by tools/fuzz/build.sh,
// so internal names are visible). Invariants checked on every input:
// - no crash, no sanitizer report, no infinite loop;
// - the outcome does not depend on how the bytes are split: feeding everything at once and
//   feeding in chunks (sizes taken from the input itself) give the same replies, the same error
//   and the same number of bytes left waiting;
// - a failed parser keeps failing with the same error, whatever is fed after;
// - every reply respects the limits, and re-encoding it and parsing that gives the same reply.

struct Outcome: Equatable {
    var replies: [RESPValue] = []
    var error: RESPProtocolError?
    var leftover = 0
}

func fuzzLimits() -> RESPLimits {
    var limits = RESPLimits()
    limits.maxLineBytes = 24
    limits.maxBulkBytes = 64
    limits.maxArrayCount = 8
    limits.maxDepth = 4
    return limits
}

func check(_ value: RESPValue, limits: RESPLimits, depth: Int) {
    switch value {
    case .simple(let text), .error(let text):
        precondition(text.utf8.count <= limits.maxLineBytes * 3, "line over the limit")   // replacement characters may grow it
        precondition(!text.contains("\r") && !text.contains("\n"), "CR or LF inside a line")
    case .bulk(let bytes?): precondition(bytes.count <= limits.maxBulkBytes, "bulk over the limit")
    case .array(let items?):
        precondition(items.count <= limits.maxArrayCount, "array over the limit")
        precondition(items.isEmpty || depth < limits.maxDepth, "nested too deep")
        for item in items { check(item, limits: limits, depth: depth + 1) }
    default: break
    }
}

func drain(_ parser: inout RESPParser, into outcome: inout Outcome) {
    while outcome.error == nil {
        do {
            guard let reply = try parser.next() else { return }
            check(reply, limits: parser.limits, depth: 1)
            var again = RESPParser()
            again.feed(reply.encoded)
            // Lossy UTF-8 in simple strings may change their bytes, never their structure.
            if case .some(let parsed) = try? again.next() {
                if !containsText(reply) { precondition(parsed == reply, "round trip changed \(reply)") }
            } else {
                preconditionFailure("re-encoded reply does not parse: \(reply)")
            }
            outcome.replies.append(reply)
        } catch {
            precondition(!error.reason.isEmpty, "empty reason")
            parser.feed([43, 79, 75, 13, 10])   // "+OK\r\n" after a failure changes nothing
            do { _ = try parser.next(); preconditionFailure("parser recovered after an error") }
            catch let again { precondition(again == error, "different error on retry") }
            outcome.error = error
        }
    }
}

func containsText(_ value: RESPValue) -> Bool {
    switch value {
    case .simple, .error: return true
    case .array(let items?): return items.contains(where: containsText)
    default: return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Array(UnsafeBufferPointer(start: start, count: count))
    guard let control = data.first else { return 0 }
    let input = Array(data.dropFirst())

    var whole = RESPParser(limits: fuzzLimits())
    var wholeOutcome = Outcome()
    whole.feed(input)
    drain(&whole, into: &wholeOutcome)
    wholeOutcome.leftover = wholeOutcome.error == nil ? whole.bufferedCount : 0

    var chunked = RESPParser(limits: fuzzLimits())
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
    chunkedOutcome.leftover = chunkedOutcome.error == nil ? chunked.bufferedCount : 0
    precondition(wholeOutcome == chunkedOutcome, "outcome depends on chunking: \(wholeOutcome) vs \(chunkedOutcome)")
    return 0
}
