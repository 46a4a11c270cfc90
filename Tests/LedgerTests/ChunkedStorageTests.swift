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

    @Test func chunkedArrayRemoveLastUndoesAppendAcrossAChunkBoundary() {
        var chunked = ChunkedArray<Int>()
        for value in 0..<(ChunkedArray<Int>.chunkSize + 1) { chunked.append(value) }
        chunked.removeLast()
        chunked.removeLast()
        chunked.append(-1)
        #expect(chunked.count == ChunkedArray<Int>.chunkSize && chunked.last == -1)
        chunked.append(-2)
        #expect(chunked[ChunkedArray<Int>.chunkSize] == -2)
    }

    /// Appends (with repeats), lookups and take-backs of the last append, against a dictionary
    /// and an array; execIds long and short, colliding into the same shards as the table grows.
    @Test func execIdIndexMatchesADictionaryUnderRandomOperations() {
        var index = ExecIdIndex()
        var byId: [String: Int32] = [:]
        var order: [String] = []
        var random = SeededRandom(seed: 42)
        for _ in 0..<30_000 {
            let length = random.next() % 3 == 0 ? 40 : 6
            let key = "E\(random.next() % 5_000)" + String(repeating: "x", count: Int(random.next() % UInt64(length)))
            switch random.next() % 5 {
            case 0 where !order.isEmpty:
                index.removeLast()
                byId[order.removeLast()] = nil
            case 1:
                #expect(index.arrival(of: key) == byId[key])
            default:
                let existing = index.append(key)
                #expect(existing == byId[key])
                if existing == nil {
                    byId[key] = Int32(order.count)
                    order.append(key)
                }
            }
        }
        #expect(index.count == order.count)
        for (arrival, key) in order.enumerated() {
            #expect(index.arrival(of: key) == Int32(arrival))
            #expect(index.execId(at: arrival) == key)
        }
        #expect(index.arrival(of: "never stored") == nil && index.arrival(of: "") == nil)
    }

    @Test func aCopyOfAnExecIdIndexDivergesOnBothSides() {
        var original = ExecIdIndex()
        for value in 0..<1_000 { _ = original.append("K\(value)-with-a-long-enough-suffix") }
        var copy = original
        original.removeLast()
        _ = original.append("new")
        _ = copy.append("only in the copy")
        #expect(copy.arrival(of: "K999-with-a-long-enough-suffix") == 999 && copy.arrival(of: "new") == nil)
        #expect(original.arrival(of: "new") == 999 && original.arrival(of: "only in the copy") == nil)
        #expect(copy.execId(at: 1_000) == "only in the copy" && original.count == 1_000 && copy.count == 1_001)
    }
}
