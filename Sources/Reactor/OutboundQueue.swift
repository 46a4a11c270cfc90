import Bytes
import Glibc

/// Bytes waiting to go out on one socket, as a list of shared buffers.
///
/// Appending a buffer the hub already queued elsewhere is a retain, not a copy; a partial write
/// only advances `headOffset`.
public struct OutboundQueue {
    private var chunks: [SharedBuffer] = []
    private var head = 0          // index of the first unwritten chunk (compacted lazily)
    /// Bytes of `chunks[head]` already written.
    public private(set) var headOffset = 0
    /// Bytes queued and not yet written.
    public private(set) var byteCount = 0

    public init() {}

    public var isEmpty: Bool { byteCount == 0 }
    public var chunkCount: Int { chunks.count - head }

    public mutating func append(_ chunk: SharedBuffer) {
        guard chunk.count > 0 else { return }
        chunks.append(chunk)
        byteCount += chunk.count
    }

    /// Marks `count` bytes as written, dropping finished chunks.
    public mutating func consume(_ count: Int) {
        precondition(count <= byteCount, "consumed more than queued")
        var remaining = count
        byteCount -= count
        while remaining > 0 {
            let available = chunks[head].count - headOffset
            if remaining >= available {
                remaining -= available
                headOffset = 0
                head += 1
            } else {
                headOffset += remaining
                remaining = 0
            }
        }
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: chunks.capacity <= 64)
            head = 0
        } else if head >= 64 && head * 2 >= chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }

    /// Drops every chunk that has not started going out, keeping a partly written head chunk so
    /// the byte stream stays well-framed. Used before a slow-consumer close frame is queued.
    public mutating func dropUnstarted() {
        guard head < chunks.count else { return }
        if headOffset > 0 {
            let partial = chunks[head]
            chunks = [partial]
            byteCount = partial.count - headOffset
        } else {
            chunks.removeAll()
            byteCount = 0
        }
        head = 0
    }

    /// Fills `iov` with up to `iov.count` entries describing the queued bytes; returns how many.
    func fill(_ iov: UnsafeMutableBufferPointer<iovec>) -> Int {
        var n = 0
        var index = head
        while index < chunks.count && n < iov.count {
            let chunk = chunks[index]
            let offset = index == head ? headOffset : 0
            iov[n] = iovec(iov_base: UnsafeMutableRawPointer(mutating: chunk.baseAddress + offset), iov_len: chunk.count - offset)
            n += 1
            index += 1
        }
        return n
    }

    /// Copies queued bytes, from the write position on, into `buffer` without consuming them;
    /// returns how many. TLS coalesces small frames into one record this way.
    func copyPrefix(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        var index = head
        while index < chunks.count && copied < buffer.count {
            let chunk = chunks[index]
            let offset = index == head ? headOffset : 0
            let length = Swift.min(chunk.count - offset, buffer.count - copied)
            (buffer.baseAddress! + copied).copyMemory(from: chunk.baseAddress + offset, byteCount: length)
            copied += length
            index += 1
        }
        return copied
    }
}
