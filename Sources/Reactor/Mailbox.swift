import CSystem
import Glibc
import Synchronization

/// Work posted to the loop from other threads, woken through an eventfd.
///
/// The only cross-thread door into the loop: the ingest thread posts committed batches here,
/// monitors post status changes, signal handlers post shutdown.
final class Mailbox: Sendable {
    let fd: Int32
    private let queue = Mutex<[@Sendable () -> Void]>([])

    init() throws(ReactorError) {
        fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        if fd < 0 { throw ReactorError.system("eventfd", errno) }
    }

    /// `wake` false: the caller is the loop itself, which drains the queue at the end of its
    /// turn anyway, so the eventfd write (a syscall and a spurious wake-up) is skipped.
    func post(_ work: @escaping @Sendable () -> Void, wake: Bool = true) {
        let wasEmpty = queue.withLock { items in
            items.append(work)
            return items.count == 1
        }
        // One wake-up per burst: later posts find the queue non-empty and the loop already woken.
        if wasEmpty && wake {
            var one: UInt64 = 1
            _ = Glibc.write(fd, &one, 8)
        }
    }

    /// Runs everything queued so far, in order. `resetWake` false skips reading the eventfd
    /// (the end-of-turn drain: a pending wake-up only costs one empty turn later).
    /// Returns whether anything ran.
    @discardableResult
    func drain(resetWake: Bool = true) -> Bool {
        if resetWake {
            var counter: UInt64 = 0
            _ = Glibc.read(fd, &counter, 8)
        }
        let items = queue.withLock { items in
            let taken = items
            items.removeAll(keepingCapacity: true)
            return taken
        }
        for work in items { work() }
        return !items.isEmpty
    }

    var isEmpty: Bool { queue.withLock { $0.isEmpty } }
}

public enum ReactorError: Error, CustomStringConvertible, Sendable {
    case system(String, Int32)
    case address(String)

    public var description: String {
        switch self {
        case .system(let call, let code): return "\(call): \(String(cString: strerror(code)))"
        case .address(let message): return message
        }
    }
}
