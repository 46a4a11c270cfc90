import CSystem
import Glibc

/// The bench client's POSIX socket calls, kept in this one file: a TCP connection to the server
/// under test, raw reads and writes, and the monotonic clock every latency is measured with.
enum ClientSocket {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A connected TCP socket (IPv4; `localhost` means 127.0.0.1), Nagle off, still blocking.
    static func connect(host: String, port: Int, nonBlocking: Bool = false) throws(Failure) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                        | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errorText())") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let numeric = host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, numeric, &address.sin_addr) == 1 else {
            close(fd)
            throw Failure(description: "host must be an IPv4 address or localhost, got '\(host)'")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 && !(nonBlocking && errno == EINPROGRESS) {
            let text = errorText()
            close(fd)
            throw Failure(description: "connect \(host):\(port): \(text)")
        }
        return fd
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// Writes every byte, waiting for POLLOUT when a non-blocking socket is full.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
            } else if written < 0 && (errno == EAGAIN || errno == EINTR) {
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, 1000)
            } else {
                throw Failure(description: "write: \(errorText())")
            }
        }
    }

    /// Reads what is available into `buffer`: the byte count, 0 at end of stream, -1 when a
    /// non-blocking socket has nothing, -2 on an error.
    static func read(_ fd: Int32, into buffer: inout [UInt8]) -> Int {
        let count = buffer.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress!, raw.count) }
        if count >= 0 { return count }
        return (errno == EAGAIN || errno == EINTR) ? -1 : -2
    }

    /// Waits up to `timeoutMilliseconds` for `fd` to become readable.
    static func waitReadable(_ fd: Int32, timeoutMilliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, timeoutMilliseconds) > 0
    }

    /// `SO_ERROR` of a non-blocking connect that reported writable: 0 when it succeeded.
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        return value
    }

    static func raiseDescriptorLimit() -> Int { lw_raise_nofile_limit() }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

/// Nanoseconds on CLOCK_MONOTONIC: the one clock both bench threads schedule and measure with.
func monotonicNanoseconds() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}

/// Sleeps until the monotonic clock reaches `deadline` (absolute, so drift never accumulates).
func sleep(untilMonotonic deadline: Int64) {
    var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
}
