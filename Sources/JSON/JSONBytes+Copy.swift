import Bytes

extension JSONBytes {
    /// The JSON written so far, copied into `destination` (which must have room for `count`
    /// bytes): a frame built straight from the writer, without the array `bytes` would make.
    public func copyBytes(to destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= written, "no room for \(written) bytes of JSON")
        if written > 0 { destination.baseAddress!.copyMemory(from: start, byteCount: written) }
    }
}
