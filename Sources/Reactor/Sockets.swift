import CSystem
import Glibc

/// Socket set-up: the only place that deals with `sockaddr` layouts.
enum Sockets {
    static func listeningSocket(host: String, port: Int) throws(ReactorError) -> Int32 {
        guard (0...65535).contains(port) else { throw .address("port \(port) is out of range 0-65535") }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let info = result else {
            throw .address("cannot resolve listen address '\(host)': \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw .system("socket", errno) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            let code = errno
            Glibc.close(fd)
            if code == EADDRINUSE { throw .address("cannot listen on \(host):\(port): address already in use") }
            throw .address("cannot listen on \(host):\(port): \(String(cString: strerror(code)))")
        }
        if Glibc.listen(fd, 4096) != 0 {
            let code = errno
            Glibc.close(fd)
            throw .system("listen", code)
        }
        return fd
    }

    static func boundPort(_ fd: Int32) throws(ReactorError) -> Int {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if rc != 0 { throw .system("getsockname", errno) }
        return describeEndpoint(address).port
    }

    /// "host:port" of a peer and whether it is a loopback address.
    static func describe(_ address: sockaddr_storage) -> (String, Bool) {
        let endpoint = describeEndpoint(address)
        let text = endpoint.host.contains(":") ? "[\(endpoint.host)]:\(endpoint.port)" : "\(endpoint.host):\(endpoint.port)"
        return (text, endpoint.loopback)
    }

    static func describeEndpoint(_ storage: sockaddr_storage) -> (host: String, port: Int, loopback: Bool) {
        var address = storage
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(address.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin_addr
                    inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
                    let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    let loopback = (UInt32(bigEndian: addr.s_addr) >> 24) == 127
                    return (host, Int(UInt16(bigEndian: sin.pointee.sin_port)), loopback)
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var addr = sin6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
                    let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    let loopback = host == "::1" || host.hasPrefix("::ffff:127.")
                    return (host, Int(UInt16(bigEndian: sin6.pointee.sin6_port)), loopback)
                }
            }
        default:
            return ("unknown", 0, false)
        }
    }
}
