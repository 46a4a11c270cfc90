import CSystem
import Glibc
import WebSocketCore

/// Many WebSocket clients opened at once on one epoll loop: non-blocking connect, handshake, and
/// the first message (the snapshot) read whole. Each client's times run from its own connect().
struct ConnectionCrowd {
    struct Client {
        var fd: Int32
        var startedAt: Int64
        var handshake: ClientHandshake
        var requestSent = false
        var response: [UInt8] = []
        var reader: ServerFrameReader? = nil
        var upgradedAt: Int64? = nil
        var firstMessageAt: Int64? = nil
        var failure: String? = nil
        var open = true
    }

    let url: ServerURL
    let target: String
    /// Offer permessage-deflate (a client whose offer is declined counts as failed).
    var offerDeflate = false
    private(set) var clients: [Client] = []
    private let epoll: Int32
    private var readBuffer = [UInt8](repeating: 0, count: 1 << 16)
    private var settled = 0

    init(url: ServerURL, target: String) {
        self.url = url
        self.target = target
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
    }

    /// Opens `count` clients, at most `concurrency` connecting at a time, and returns when each
    /// has its first message or has failed (or `timeout` passed).
    mutating func open(count: Int, concurrency: Int, timeout: Int64) {
        let deadline = monotonicNanoseconds() + timeout
        let first = clients.count
        var nextToStart = first
        while settled < clients.count || nextToStart < first + count {
            while nextToStart < first + count && clients.count - settled < concurrency {
                start()
                nextToStart += 1
            }
            poll(timeoutMilliseconds: 20)
            if monotonicNanoseconds() > deadline { break }
        }
    }

    /// Keeps reading (heartbeats) for `duration` so nothing piles up in the server's buffers.
    mutating func idle(for duration: Int64) {
        let deadline = monotonicNanoseconds() + duration
        while monotonicNanoseconds() < deadline { poll(timeoutMilliseconds: 50) }
    }

    func closeAll() {
        for client in clients where client.open { close(client.fd) }
        close(epoll)
    }

    private mutating func start() {
        let startedAt = monotonicNanoseconds()
        let handshake = ClientHandshake(host: url.host, port: url.port, target: target, offerDeflate: offerDeflate)
        do {
            let fd = try ClientSocket.connect(host: url.host, port: url.port, nonBlocking: true)
            clients.append(Client(fd: fd, startedAt: startedAt, handshake: handshake))
            _ = lw_epoll_ctl(epoll, EPOLL_CTL_ADD, fd, EPOLLIN.rawValue | EPOLLOUT.rawValue, UInt64(clients.count - 1))
        } catch {
            clients.append(Client(fd: -1, startedAt: startedAt, handshake: handshake, failure: error.description, open: false))
            settled += 1
        }
    }

    private mutating func poll(timeoutMilliseconds: Int32) {
        var tokens = [UInt64](repeating: 0, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        let ready = lw_epoll_wait(epoll, &tokens, &events, 256, timeoutMilliseconds)
        guard ready > 0 else { return }
        for slot in 0..<Int(ready) {
            let index = Int(tokens[slot])
            guard clients[index].open else { continue }
            if !clients[index].requestSent && events[slot] & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
                sendRequest(index)
            }
            if events[slot] & (EPOLLIN.rawValue | EPOLLHUP.rawValue) != 0 { read(index) }
        }
    }

    private mutating func sendRequest(_ index: Int) {
        let error = ClientSocket.pendingError(clients[index].fd)
        guard error == 0 else { fail(index, "connect: \(String(cString: strerror(error)))"); return }
        do { try ClientSocket.writeAll(clients[index].fd, clients[index].handshake.request) } catch {
            fail(index, error.description)
            return
        }
        clients[index].requestSent = true
        _ = lw_epoll_ctl(epoll, EPOLL_CTL_MOD, clients[index].fd, EPOLLIN.rawValue, UInt64(index))
    }

    private mutating func read(_ index: Int) {
        while true {
            let count = ClientSocket.read(clients[index].fd, into: &readBuffer)
            if count == -1 { return }
            if count <= 0 { fail(index, "closed by the server"); return }
            let now = monotonicNanoseconds()
            if clients[index].reader == nil {
                clients[index].response.append(contentsOf: readBuffer[..<count])
                switch clients[index].handshake.outcome(of: clients[index].response) {
                case .incomplete: continue
                case .refused(let why): fail(index, why); return
                case .upgraded(let leftover):
                    clients[index].upgradedAt = now
                    clients[index].reader = ServerFrameReader(initial: Array(leftover))
                    clients[index].response = []
                }
            } else {
                clients[index].reader!.append(readBuffer[..<count])
            }
            while let (frame, _) = clients[index].reader!.next() {
                switch frame {
                case .message:
                    if clients[index].firstMessageAt == nil {
                        clients[index].firstMessageAt = now
                        settled += 1
                    }
                case .ping(let payload):
                    try? ClientSocket.writeAll(clients[index].fd, FrameEncoder.maskedFrame(.pong, payload: payload, maskKey: (9, 8, 7, 6)))
                case .close(let code):
                    fail(index, "closed by the server with \(code)")
                    return
                }
            }
            if count < readBuffer.count { return }
        }
    }

    private mutating func fail(_ index: Int, _ why: String) {
        if clients[index].failure == nil && clients[index].firstMessageAt == nil { settled += 1 }
        if clients[index].failure == nil { clients[index].failure = why }
        _ = lw_epoll_ctl(epoll, EPOLL_CTL_DEL, clients[index].fd, 0, 0)
        close(clients[index].fd)
        clients[index].open = false
    }
}
