import ConfigFiles
import Foundation
import Glibc
import Hub
import Ingest
import Journal
import Ledger
import Reactor
import Synchronization
import TestSupport
import Testing
@testable import Server

@Suite struct HTTPSessionTests {
    final class Sent: Sendable { let bytes = Atomic<Int>(0) }

    /// While a request waits for the ingest thread, its socket is not read: bytes pipelined behind
    /// it stay in the kernel (TCP pushes back on the client) instead of piling up in the server.
    /// The pipeline is never started here, so the reply stays pending for the whole test.
    /// A server on a real loop over a pipeline that is never started (its work waits forever).
    struct Stalled {
        let folder = TemporaryDirectory()
        let journal: Journal
        let pipeline: IngestPipeline
        let loop: EventLoop
        let context: ServerContext
        let port: Int

        init() throws {
            journal = try Journal(JournalOptions(path: folder.file("journal.db")))
            let catalog = try InstrumentsFile.load(path: "\(repositoryRoot)/config/instruments.json")
            pipeline = try IngestPipeline(journal: journal, catalog: catalog, config: LedgerConfig(),
                                          options: IngestPipeline.Options()) { _ in }
            loop = try EventLoop()
            var config = ServerConfig()
            config.staticDir = folder.path
            let context = ServerContext(config: config, loop: loop, hub: Hub(), metrics: ServerMetrics(), pipeline: pipeline,
                                        source: PipelineSource(pipeline: pipeline),
                                        statusBoard: StatusBoard(), authenticator: Authenticator(tokens: TokenStore(), anonymousRole: .admin),
                                        version: "test")
            self.context = context
            port = try loop.listen(host: "127.0.0.1", port: 0) { connection in
                connection.handler = HTTPSession(context: context, connection: connection)
            }
        }

        func close() {
            journal.close()
            folder.remove()
        }
    }

    @Test func nothingIsReadWhileAReplyIsPending() throws {
        let server = try Stalled()
        defer { server.close() }
        let (loop, port, context) = (server.loop, server.port, server.context)
        let sent = Sent()
        let total = 8 << 20
        let client = Thread {
            let fd = connectTCP(port: port)
            var bytes = Array("GET /api/snapshot HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
            bytes += [UInt8](repeating: UInt8(ascii: "x"), count: total)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n > 0 { offset += n; continue }
                guard errno == EAGAIN || errno == EWOULDBLOCK else { break }
                var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&waiting, 1, 500) == 0 { break }   // the server stopped reading
            }
            sent.bytes.store(offset, ordering: .relaxed)
            loop.post { loop.stop() }
        }
        client.start()
        loop.run()
        let read = loop.bytesIn
        #expect(sent.bytes.load(ordering: .relaxed) > 0)
        #expect(read < 256 * 1024, "read \(read) bytes while the reply was pending; the client sent \(sent.bytes.load(ordering: .relaxed))")
        #expect(context.loop.allConnections.allSatisfy { $0.readingPaused })
    }
}

extension HTTPSessionTests {
    final class Reply: Sendable { let text = Mutex("") }

    /// Viewer reads wait on the ingest queue only while it is below its bound: past it a GET is
    /// answered 503 busy at once, with Retry-After, instead of queueing more.
    @Test func aFullIngestQueueAnswersReadsBusy() throws {
        let server = try Stalled()
        defer { server.close() }
        for _ in 0..<ServerContext.maxQueuedReads {
            #expect(server.pipeline.read(ifQueueBelow: ServerContext.maxQueuedReads) { _ in })
        }
        let (loop, port) = (server.loop, server.port)
        let reply = Reply()
        let client = Thread {
            let fd = connectTCP(port: port)
            let request = Array("GET /api/snapshot HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buffer, buffer.count)
            reply.text.withLock { $0 = String(decoding: buffer[0..<max(n, 0)], as: UTF8.self) }
            Glibc.close(fd)
            loop.post { loop.stop() }
        }
        client.start()
        loop.run()
        let text = reply.text.withLock { $0 }
        #expect(text.hasPrefix("HTTP/1.1 503 "), "\(text)")
        #expect(text.contains("Retry-After: 1") && text.contains("\"error\":\"busy\""))
        #expect(server.pipeline.statistics.readsRefused.load(ordering: .relaxed) == 1)
    }
}
