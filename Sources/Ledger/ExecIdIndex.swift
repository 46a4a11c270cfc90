/// Every fill's execId by arrival, and the index from an execId back to its arrival, kept
/// compact because there is one per fill ever applied.
///
/// Why not a `String` per fill and a `[String: Int32]`: an execId longer than 15 bytes (the
/// bench's, TT's) is a heap buffer of its own, referenced from the fill and again from the
/// dictionary's key, ~110 bytes a fill in all; this stores the bytes once, end to end in 64 KiB
/// chunks, a 12-byte span per fill, and an open-addressing table of arrivals (4 bytes a slot,
/// at most half full): ~40 bytes a fill for a 20-byte execId, no allocation per fill, and a
/// restore that does not allocate a million strings. Lookups compare bytes, never build a String.
///
/// The shard is the hash's top byte, the slot its low bits.
///
/// Copies stay cheap to diverge from, like `ChunkedArray`: after `let copy = index`, the next
/// append copies the last byte chunk, one span chunk and one of 256 table shards.
struct ExecIdIndex: Sendable {
    private struct Span: Sendable {
        var chunk: UInt32
        var offset: UInt32
        var length: UInt32
    }

    /// One shard of the table: arrival + 1 per slot (0: empty), linear probing, ≤ half full.
    private struct Shard: Sendable {
        var slots: [Int32] = []
        var count = 0
    }

    private static var chunkBytes: Int { 1 << 16 }
    private static var shardCount: Int { 256 }

    private var chunks: [[UInt8]] = []
    private var spans = ChunkedArray<Span>()
    private var shards = [Shard](repeating: Shard(), count: ExecIdIndex.shardCount)

    init() {}

    /// Execids stored (= the arrival the next one gets).
    var count: Int { spans.count }

    /// The execId of the fill that arrived `arrival`-th.
    func execId(at arrival: Int) -> String {
        String(decoding: bytes(at: arrival), as: UTF8.self)
    }

    /// The arrival of the fill with this execId, if any.
    func arrival(of execId: String) -> Int32? {
        let key = execId.utf8
        let hash = Self.hash(key)
        let shard = shards[Self.shard(of: hash)]
        guard !shard.slots.isEmpty else { return nil }
        let mask = shard.slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while shard.slots[slot] != 0 {
            let arrival = shard.slots[slot] - 1
            if bytes(at: Int(arrival)).elementsEqual(key) { return arrival }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Stores `execId` as arrival `count`, unless a fill already has it: then nothing changes and
    /// that fill's arrival is returned.
    mutating func append(_ execId: String) -> Int32? { append(bytes: execId.utf8) }

    /// `append` of an execId given as its UTF-8 bytes (a restore reads them so).
    mutating func append<Key: Collection<UInt8>>(bytes key: Key) -> Int32? {
        let hash = Self.hash(key)
        let shardIndex = Self.shard(of: hash)
        if (shards[shardIndex].count + 1) * 2 > shards[shardIndex].slots.count { grow(shardIndex) }
        let mask = shards[shardIndex].slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while shards[shardIndex].slots[slot] != 0 {
            let arrival = shards[shardIndex].slots[slot] - 1
            if bytes(at: Int(arrival)).elementsEqual(key) { return arrival }
            slot = (slot + 1) & mask
        }
        shards[shardIndex].slots[slot] = Int32(spans.count) + 1
        shards[shardIndex].count += 1
        store(key)
        return nil
    }

    /// Takes back the last `append` (a fill that claimed its execId, then failed to apply).
    mutating func removeLast() {
        guard spans.count > 0 else { return }
        let last = spans.count - 1
        let hash = Self.hash(bytes(at: last))
        let shardIndex = Self.shard(of: hash)
        let mask = shards[shardIndex].slots.count - 1
        var hole = Int(truncatingIfNeeded: hash) & mask
        while shards[shardIndex].slots[hole] != Int32(last) + 1 { hole = (hole + 1) & mask }
        // Backward-shift deletion: later entries of the same probe run move up into the hole,
        // so that a lookup never stops early at it.
        var next = (hole + 1) & mask
        while shards[shardIndex].slots[next] != 0 {
            let moving = shards[shardIndex].slots[next]
            let home = Int(truncatingIfNeeded: Self.hash(bytes(at: Int(moving - 1)))) & mask
            // It may move into the hole unless its home lies cyclically in (hole, next].
            let homeInBetween = hole < next ? (home > hole && home <= next) : (home > hole || home <= next)
            if !homeInBetween {
                shards[shardIndex].slots[hole] = moving
                hole = next
            }
            next = (next + 1) & mask
        }
        shards[shardIndex].slots[hole] = 0
        shards[shardIndex].count -= 1
        let span = spans[last]
        chunks[Int(span.chunk)].removeLast(Int(span.length))
        if chunks[Int(span.chunk)].isEmpty { chunks.removeLast() }
        spans.removeLast()
    }

    mutating func reserveCapacity(_ capacity: Int) {
        spans.reserveCapacity(capacity)
        var slots = 16
        while slots < capacity * 2 / Self.shardCount + 2 { slots *= 2 }
        for index in shards.indices where shards[index].slots.count < slots { resize(index, to: slots) }
    }

    // MARK: Private

    /// The execId of arrival `arrival` as its UTF-8 bytes (a slice of the store, nothing copied).
    func bytes(at arrival: Int) -> ArraySlice<UInt8> {
        let span = spans[arrival]
        return chunks[Int(span.chunk)][Int(span.offset)..<Int(span.offset + span.length)]
    }

    private mutating func store<Key: Collection<UInt8>>(_ bytes: Key) {
        let length = bytes.count
        if chunks.isEmpty || chunks[chunks.count - 1].count + length > max(Self.chunkBytes, length) {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(max(Self.chunkBytes, length))
            chunks.append(chunk)
        }
        let chunk = chunks.count - 1
        spans.append(Span(chunk: UInt32(chunk), offset: UInt32(chunks[chunk].count), length: UInt32(length)))
        chunks[chunk].append(contentsOf: bytes)
    }

    private mutating func grow(_ shardIndex: Int) {
        resize(shardIndex, to: max(16, shards[shardIndex].slots.count * 2))
    }

    private mutating func resize(_ shardIndex: Int, to size: Int) {
        var slots = [Int32](repeating: 0, count: size)
        let mask = size - 1
        for moving in shards[shardIndex].slots where moving != 0 {
            var slot = Int(truncatingIfNeeded: Self.hash(bytes(at: Int(moving - 1)))) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = moving
        }
        shards[shardIndex].slots = slots
    }

    /// SipHash through the standard `Hasher`, seeded at random per process like every
    /// `Dictionary`: execIds come from outside, and with a fixed hash a producer could send
    /// execIds that all land in one probe run. The table's layout is never observable (it
    /// answers lookups; arrivals and checkpoints follow arrival order).
    private static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hasher = Hasher()
        for byte in bytes { hasher.combine(byte) }
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    private static func shard(of hash: UInt64) -> Int { Int(hash >> 56) }
}
