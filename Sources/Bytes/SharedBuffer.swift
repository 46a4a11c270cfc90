/// Immutable bytes in stable memory, shared by reference.
///
/// A delta frame is encoded once into a `SharedBuffer` and the same buffer is queued on every
/// subscriber: queuing costs a retain, and `writev` can point straight at the storage because
/// it never moves or changes while any queue holds it.
public final class SharedBuffer: @unchecked Sendable {
    // Safety: the storage is written once in init and never mutated afterwards.
    let base: UnsafeMutableRawPointer
    public let count: Int

    public init(_ bytes: some Collection<UInt8>) {
        count = bytes.count
        base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1), alignment: 8)
        let typed = base.bindMemory(to: UInt8.self, capacity: Swift.max(count, 1))
        _ = UnsafeMutableBufferPointer(start: typed, count: count).initialize(from: bytes)
    }

    /// `count` bytes written once by `initialize` (which must write every one of them): a frame
    /// assembled straight from its writer, with no intermediate array.
    public init(count: Int, initializingWith initialize: (UnsafeMutableRawBufferPointer) -> Void) {
        self.count = count
        base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1), alignment: 8)
        initialize(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// Concatenates parts (e.g. a frame header and its payload) into one buffer.
    public init(concatenating parts: [[UInt8]]) {
        count = parts.reduce(0) { $0 + $1.count }
        base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1), alignment: 8)
        var offset = 0
        for part in parts {
            part.withUnsafeBytes { raw in
                if raw.count > 0 { (base + offset).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
            }
            offset += part.count
        }
    }

    /// Concatenates shared buffers (a batch of frames for one group of subscribers).
    public init(concatenating buffers: [SharedBuffer]) {
        count = buffers.reduce(0) { $0 + $1.count }
        base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1), alignment: 8)
        var offset = 0
        for buffer in buffers {
            (base + offset).copyMemory(from: buffer.base, byteCount: buffer.count)
            offset += buffer.count
        }
    }

    deinit { base.deallocate() }

    /// The first byte, stable for the buffer's lifetime: the reactor points `writev` at it.
    /// Read-only by contract (the storage is shared by every queue that holds it).
    public var baseAddress: UnsafeRawPointer { UnsafeRawPointer(base) }

    public var bytes: [UInt8] {
        Array(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// A copy of the bytes from `offset` on (a frame's payload without its header).
    public func bytes(from offset: Int) -> [UInt8] {
        precondition(offset >= 0 && offset <= count, "offset \(offset) outside 0...\(count)")
        return Array(UnsafeRawBufferPointer(start: base + offset, count: count - offset))
    }
}
