import Bytes
/// Pending one-shot timers ordered by deadline (a binary min-heap; ties run in insertion order).
struct TimerHeap {
    private struct Entry {
        var deadline: Monotonic
        var order: UInt64
        var work: () -> Void
        func precedes(_ other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && order < other.order)
        }
    }
    private var entries: [Entry] = []
    private var counter: UInt64 = 0

    var nextDeadline: Monotonic? { entries.first?.deadline }
    var count: Int { entries.count }

    mutating func push(deadline: Monotonic, work: @escaping () -> Void) {
        counter += 1
        entries.append(Entry(deadline: deadline, order: counter, work: work))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest timer if it is due.
    mutating func popDue(now: Monotonic) -> (() -> Void)? {
        guard let first = entries.first, !(now < first.deadline) else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = parent * 2 + 1, right = left + 1
                var smallest = parent
                if left < entries.count && entries[left].precedes(entries[smallest]) { smallest = left }
                if right < entries.count && entries[right].precedes(entries[smallest]) { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.work
    }
}
