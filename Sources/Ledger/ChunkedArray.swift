/// An append-mostly array stored in fixed-size chunks, so that a copy of it stays cheap to
/// diverge from: after `let copy = array`, the next append copies only the last chunk and the
/// list of chunk references, not every element.
///
/// Why: the ledger is a value handed whole to the checkpoint encoder (and to readers) while the
/// writer goes on applying events. With a plain `Array` of a million fills, the writer's first
/// append after such a copy duplicated the whole fill store — a stall of tens of milliseconds
/// on the thread that commits and fans out.
struct ChunkedArray<Element>: RandomAccessCollection, MutableCollection {
    static var chunkSize: Int { 4096 }
    private var chunks: [[Element]] = []
    private(set) var count = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "ChunkedArray index out of range")
            return chunks[index / Self.chunkSize][index % Self.chunkSize]
        }
        set {
            precondition(index >= 0 && index < count, "ChunkedArray index out of range")
            chunks[index / Self.chunkSize][index % Self.chunkSize] = newValue
        }
    }

    mutating func append(_ element: Element) {
        if count % Self.chunkSize == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    mutating func removeLast() {
        precondition(count > 0, "removeLast on an empty ChunkedArray")
        chunks[chunks.count - 1].removeLast()
        if chunks[chunks.count - 1].isEmpty { chunks.removeLast() }
        count -= 1
    }

    /// Room for this many elements' chunk references (the chunks are sized as they come).
    mutating func reserveCapacity(_ capacity: Int) {
        chunks.reserveCapacity((capacity + Self.chunkSize - 1) / Self.chunkSize)
    }
}

extension ChunkedArray: Sendable where Element: Sendable {}
