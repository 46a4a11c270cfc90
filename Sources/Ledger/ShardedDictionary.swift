/// A dictionary split into a fixed number of shards by key hash, so that a copy of it stays
/// cheap to diverge from: after `let copy = dictionary`, the next insert copies one shard
/// (1/256 of the entries) and the list of shards, not the whole table. Same reasons as
/// `ChunkedArray`: the ledger's execId index holds every fill of the day.
///
/// Keys are strings (execIds): the shard comes from an FNV-1a over the key's last bytes, which is
/// far cheaper than a second full `Hasher` pass on every lookup.
struct ShardedDictionary<Value> {
    typealias Key = String
    private static var shardCount: Int { 256 }
    private var shards: [[Key: Value]] = Array(repeating: [:], count: ShardedDictionary.shardCount)
    private(set) var count = 0

    init() {}

    private static func shard(of key: Key) -> Int {
        // The last 8 bytes: execIds usually differ at their end (counters, timestamps).
        var hash: UInt32 = 2_166_136_261
        let utf8 = key.utf8
        for byte in utf8.dropFirst(max(0, utf8.count - 8)) {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return Int((hash ^ (hash >> 16)) % UInt32(shardCount))
    }

    subscript(key: Key) -> Value? {
        get { shards[Self.shard(of: key)][key] }
        set {
            let shard = Self.shard(of: key)
            if let newValue {
                if shards[shard].updateValue(newValue, forKey: key) == nil { count += 1 }
            } else if shards[shard].removeValue(forKey: key) != nil {
                count -= 1
            }
        }
    }

    /// Sets `value` for `key` and returns the value it replaced (nil: a new key).
    @discardableResult
    mutating func updateValue(_ value: Value, forKey key: Key) -> Value? {
        let previous = shards[Self.shard(of: key)].updateValue(value, forKey: key)
        if previous == nil { count += 1 }
        return previous
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        let removed = shards[Self.shard(of: key)].removeValue(forKey: key)
        if removed != nil { count -= 1 }
        return removed
    }

    mutating func reserveCapacity(_ capacity: Int) {
        let perShard = capacity / Self.shardCount + 1
        for index in shards.indices { shards[index].reserveCapacity(perShard) }
    }
}

extension ShardedDictionary: Sendable where Value: Sendable {}
