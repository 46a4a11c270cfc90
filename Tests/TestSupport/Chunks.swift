/// Feeds `input` to a sans-I/O parser in pieces of `size` bytes (all at once when nil), calling
/// `body` after each piece; stops early when `body` returns false. Parsers must give the same
/// result however the bytes are split, and the tests check that through this one helper.
public func feedInChunks(_ input: [UInt8], size: Int?, _ body: (ArraySlice<UInt8>) -> Bool) {
    var offset = 0
    let step = size ?? max(input.count, 1)
    repeat {
        let end = min(offset + step, input.count)
        let more = body(input[offset..<end])
        offset = end
        if !more { return }
    } while offset < input.count
}
