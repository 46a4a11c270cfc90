import CSystem
import Glibc

extension EventLoop {
    /// Opens a TCP connection to `host:port` without blocking the loop and returns it at once,
    /// connect still in progress (`EINPROGRESS`). It is an ordinary `Connection` from then on:
    /// bytes sent before the connect completes wait in its queue (a write on a connecting socket
    /// would block, so the flush keeps them and arms EPOLLOUT, which fires when the handshake
    /// ends); a refused or unreachable peer shows up as an error on the socket, so the read fails
    /// and `handler.closed` runs, as for any connection the peer dropped.
    ///
    /// The name is resolved with `getaddrinfo` on the loop thread: meant for numeric addresses
    /// and names in /etc/hosts (the Redis engine's address is configuration, not user input).
    ///
    /// With `tls` (a `TLSContext.client` context) the connection speaks TLS: the handshake starts
    /// when the connect completes, queued bytes wait for it, and the handler sees only decrypted
    /// bytes. A handshake that fails (an untrusted certificate, another name) closes the
    /// connection like a refused connect.
    public func connect(host: String, port: Int, tls: TLSContext? = nil, handler: ConnectionHandler) throws(ReactorError) -> Connection {
        guard (1...65535).contains(port) else { throw .address("port \(port) is out of range 1-65535") }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let info = result else {
            throw .address("cannot resolve '\(host)': \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw .system("socket", errno) }
        if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
            let code = errno
            Glibc.close(fd)
            throw .address("cannot connect to \(host):\(port): \(String(cString: strerror(code)))")
        }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_storage()
        withUnsafeMutableBytes(of: &address) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
        }
        let (peer, loopback) = Sockets.describe(address)
        var session: TLSSession?
        if let tls {
            session = TLSSession(clientOf: tls, fd: fd, serverName: host)
            if session == nil {
                Glibc.close(fd)
                throw .address("cannot set up TLS for \(host):\(port)")
            }
        }
        let connection = Connection(id: nextID, fd: fd, peer: peer, isLoopbackPeer: loopback,
                                    backlog: OutboundBacklog(cap: options.outboundCapBytes,
                                                             hardCap: options.outboundHardCapBytes ?? options.outboundCapBytes * 16,
                                                             drainSeconds: options.outboundDrainSeconds),
                                    tls: session, loop: self)
        nextID += 1
        connection.handler = handler
        connections[connection.id] = connection
        // Writability too until the first flush: it is how a completed connect is noticed.
        connection.interest = Self.readInterest | Self.writeInterest
        _ = lw_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, connection.interest, connection.id)
        return connection
    }
}
