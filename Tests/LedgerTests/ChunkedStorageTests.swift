import Bytes
import Testing
@testable import Ledger

/// The fill store's containers behave like `Array` and `Dictionary`, and a copy diverges
/// without either side seeing the other's changes (what makes a ledger copy cheap must not make
/// it shared).
@Suite struct ChunkedStorageTests {
    @Test func chunkedArrayMatchesAnArrayAcrossChunkBoundaries() {
        var chunked = ChunkedArray<Int>()
        var plain: [Int] = []
        let count = ChunkedArray<Int>.chunkSize * 3 + 17
        for value in 0..<count {
            chunked.append(value * 7)
            plain.append(value * 7)
        }
        #expect(chunked.count == plain.count && Array(chunked) == plain)
        for index in stride(from: 0, to: count, by: 977) {
            chunked[index] = -index
            plain[index] = -index
        }
        #expect(Array(chunked) == plain)
        #expect(chunked.last == plain.last && chunked[ChunkedArray<Int>.chunkSize] == plain[ChunkedArray<Int>.chunkSize])
    }

    @Test func aCopyOfAChunkedArrayDivergesOnBothSides() {
        var original = ChunkedArray<String>()
        for value in 0..<(ChunkedArray<String>.chunkSize + 10) { original.append("v\(value)") }
        var copy = original
        original.append("only in the original")
        original[0] = "changed in the original"
        copy[1] = "changed in the copy"
        #expect(copy.count == ChunkedArray<String>.chunkSize + 10)
        #expect(copy[0] == "v0" && original[1] == "v1")
        #expect(original.last == "only in the original" && copy.last == "v\(ChunkedArray<String>.chunkSize + 9)")
    }

    @Test func shardedDictionaryMatchesADictionaryUnderRandomOperations() {
        var sharded = ShardedDictionary<Int32>()
        var plain: [String: Int32] = [:]
        var random = SeededRandom(seed: 42)
        for step in 0..<20_000 {
            let key = "E\(random.next() % 3_000)"
            switch random.next() % 4 {
            case 0:
                #expect(sharded.removeValue(forKey: key) == plain.removeValue(forKey: key))
            case 1:
                #expect(sharded.updateValue(Int32(step), forKey: key) == plain.updateValue(Int32(step), forKey: key))
            case 2:
                sharded[key] = Int32(step)
                plain[key] = Int32(step)
            default:
                #expect(sharded[key] == plain[key])
            }
        }
        #expect(sharded.count == plain.count)
        for (key, value) in plain { #expect(sharded[key] == value) }
    }

    @Test func aCopyOfAShardedDictionaryDivergesOnBothSides() {
        var original = ShardedDictionary<Int32>()
        for value in 0..<1_000 { original["K\(value)"] = Int32(value) }
        var copy = original
        original["K1"] = nil
        original["new"] = 1
        copy["K2"] = 99
        #expect(copy["K1"] == 1 && copy["new"] == nil && copy.count == 1_000)
        #expect(original["K2"] == 2 && original.count == 1_000)
    }
}
