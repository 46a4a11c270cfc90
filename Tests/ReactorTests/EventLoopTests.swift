import Bytes
import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing
@testable import Reactor

private final class IntLog: Sendable {
    let items = Mutex<[Int]>([])
    func append(_ item: Int) { items.withLock { $0.append(item) } }
    var all: [Int] { items.withLock { $0 } }
}

private final class EventLog: Sendable {
    let items = Mutex<[String]>([])
    func append(_ item: String) { items.withLock { $0.append(item) } }
    func contains(_ item: String) -> Bool { items.withLock { $0.contains(item) } }
}

/// Echoes every byte back; records overflow and close callbacks.
private final class EchoHandler: ConnectionHandler {
    let events: EventLog
    init(events: EventLog) { self.events = events }
    func received(_ bytes: ArraySlice<UInt8>, on connection: Connection) { connection.send(Array(bytes)) }
    func outboundOverflowed(_ connection: Connection) {
        events.append("overflow")
        connection.dropUnsentOutput()
        connection.closeAfterFlush()
    }
    func closed(_ connection: Connection) { events.append("closed") }
}

private final class LoopBox: @unchecked Sendable {
    let loop: EventLoop
    let port: Int
    let events = EventLog()
    let thread: Thread

    init(options: EventLoop.Options = EventLoop.Options()) throws {
        let loop = try EventLoop(options: options)
        self.loop = loop
        let events = self.events
        port = try loop.listen(host: "127.0.0.1", port: 0) { connection in
            connection.handler = EchoHandler(events: events)
        }
        thread = Thread { loop.run() }
        thread.start()
    }

    func stop() { loop.post { [loop] in loop.stop() } }
}

@Suite(.serialized) struct EventLoopTests {
    @Test func echoesBytesOverARealSocket() throws {
        let box = try LoopBox()
        defer { box.stop() }
        let fd = connectTCP(port: box.port)
        defer { close(fd) }
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var sent = 0
        while sent < payload.count {
            let n = payload[sent...].withUnsafeBytes { write(fd, $0.baseAddress, min($0.count, 16384)) }
            #expect(n > 0)
            sent += n
            _ = n
        }
        #expect(readExactly(fd, payload.count) == payload)
    }

    @Test func mailboxRunsPostedWorkOnTheLoopInOrder() throws {
        let box = try LoopBox()
        defer { box.stop() }
        let seen = IntLog()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for i in 0..<1000 { box.loop.post { seen.append(i) } }
            box.loop.post { done.signal() }
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(seen.all == Array(0..<1000))
    }

    @Test func workTheLoopPostsToItselfRunsInTheSameTurnAndInOrder() throws {
        let box = try LoopBox()
        defer { box.stop() }
        let turns = IntLog()
        let done = DispatchSemaphore(value: 0)
        box.loop.post {
            let loop = box.loop
            turns.append(loop.turns)
            // Posted from the loop thread: runs before this turn ends (the in-loop commit's
            // fan-out and acks rely on it to share the turn's flush), and so does what it posts.
            loop.post {
                turns.append(loop.turns)
                loop.post {
                    turns.append(loop.turns)
                    done.signal()
                }
            }
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        let seen = turns.all
        #expect(seen.count == 3 && Set(seen).count == 1, "turns: \(seen)")
    }

    @Test func timersFireAfterTheirDelay() throws {
        let box = try LoopBox()
        defer { box.stop() }
        let fired = DispatchSemaphore(value: 0)
        let start = Monotonic.now()
        box.loop.post { box.loop.schedule(after: 0.05) { fired.signal() } }
        #expect(fired.wait(timeout: .now() + 5) == .success)
        #expect(Monotonic.now().seconds(since: start) >= 0.05)
    }

    @Test func aClientThatStopsReadingHitsTheOutboundCap() throws {
        var options = EventLoop.Options()
        options.outboundCapBytes = 256 * 1024
        let box = try LoopBox(options: options)
        defer { box.stop() }
        let fd = connectTCP(port: box.port)
        defer { close(fd) }
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        // Send far more than kernel buffers plus the cap can hold, never reading the echo.
        let chunk = [UInt8](repeating: 7, count: 65536)
        var sendTimeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        for _ in 0..<200 {
            let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            if box.events.contains("overflow") { break }
        }
        let deadline = Date().addingTimeInterval(5)
        while !box.events.contains("overflow") && Date() < deadline { usleep(10_000) }
        #expect(box.events.contains("overflow"))
    }

    @Test func connectionsBeyondTheLimitGet503() throws {
        var options = EventLoop.Options()
        options.maxConnections = 1
        let box = try LoopBox(options: options)
        defer { box.stop() }
        let first = connectTCP(port: box.port)
        defer { close(first) }
        _ = write(first, "x", 1)
        #expect(readExactly(first, 1) == Array("x".utf8))
        let second = connectTCP(port: box.port)
        defer { close(second) }
        let answer = String(decoding: readExactly(second, 12), as: UTF8.self)
        #expect(answer == "HTTP/1.1 503")
    }
}
