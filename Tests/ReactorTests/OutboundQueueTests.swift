import Bytes
import Testing
@testable import Reactor

@Suite struct OutboundQueueTests {
    @Test func consumeAcrossChunksKeepsOffsets() {
        var queue = OutboundQueue()
        queue.append(SharedBuffer([1, 2, 3]))
        queue.append(SharedBuffer([4, 5]))
        queue.append(SharedBuffer([6]))
        #expect(queue.byteCount == 6)
        queue.consume(4)
        #expect(queue.byteCount == 2)
        #expect(queue.chunkCount == 2)
        #expect(queue.headOffset == 1)
        queue.consume(2)
        #expect(queue.isEmpty)
        #expect(queue.chunkCount == 0)
    }

    @Test func emptyBuffersAreNotQueued() {
        var queue = OutboundQueue()
        queue.append(SharedBuffer([]))
        #expect(queue.isEmpty)
        #expect(queue.chunkCount == 0)
    }

    @Test func dropUnstartedKeepsThePartlyWrittenFrame() {
        var queue = OutboundQueue()
        queue.append(SharedBuffer([1, 2, 3, 4]))
        queue.append(SharedBuffer([5, 6]))
        queue.consume(1)
        queue.dropUnstarted()
        #expect(queue.byteCount == 3)
        #expect(queue.chunkCount == 1)
        var fresh = OutboundQueue()
        fresh.append(SharedBuffer([1, 2]))
        fresh.dropUnstarted()
        #expect(fresh.isEmpty)
    }

    @Test func sharedBufferConcatenates() {
        let buffer = SharedBuffer(concatenating: [[1, 2], [], [3]])
        #expect(buffer.bytes == [1, 2, 3])
    }

    @Test func timerHeapRunsInDeadlineThenInsertionOrder() {
        var heap = TimerHeap()
        var order: [Int] = []
        let base = Monotonic(nanoseconds: 1_000)
        for (i, offset) in [30, 10, 20, 10].enumerated() {
            heap.push(deadline: Monotonic(nanoseconds: base.nanoseconds + Int64(offset))) { order.append(i) }
        }
        #expect(heap.popDue(now: base) == nil)
        while let work = heap.popDue(now: Monotonic(nanoseconds: 2_000)) { work() }
        #expect(order == [1, 3, 2, 0])
    }
}
