import Glibc

/// The calling thread's OS-level name and scheduling priority, for dedicated background threads.
public enum CurrentThread {
    /// Names the thread as `top -H`, `ps -L` and /proc see it (the kernel keeps 15 bytes).
    /// Foundation's `Thread.name` is not passed on to the OS thread here, and Glibc does not
    /// export `pthread_setname_np` to Swift: the name is written where the kernel keeps it.
    public static func name(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Lowers the thread's priority to `niceness` (Linux keeps a nice value per thread). For
    /// housekeeping that must not take a core from the event loop or from a client on the same
    /// machine: on two cores, a WAL copy-back that wakes five times a second competed with both.
    /// Lowering is always allowed; raising it back would need privileges, so only dedicated
    /// threads call this, never a shared pool's. Returns whether it took.
    @discardableResult
    public static func lowerPriority(to niceness: Int32 = 10) -> Bool {
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) == 0
    }

    /// The thread's nice value.
    public static var niceness: Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }
}
