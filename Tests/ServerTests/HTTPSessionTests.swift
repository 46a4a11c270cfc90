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
    @Test func nothingIsReadWhileAReplyIsPending() throws {
        let folder = TemporaryDirectory(); defer { folder.remove() }
        let journal = try Journal(JournalOptions(path: folder.file("journal.db")))
        defer { journal.close() }
        let catalog = try InstrumentsFile.load(path: "\(repositoryRoot)/config/instruments.json")
        let pipeline = try IngestPipeline(journal: journal, catalog: catalog, config: LedgerConfig(),
                                          options: IngestPipeline.Options()) { _ in }
        let loop = try EventLoop()
        var config = ServerConfig()
        config.staticDir = folder.path
        let context = ServerContext(config: config, loop: loop, hub: Hub(), metrics: ServerMetrics(), pipeline: pipeline,
                                    statusBoard: StatusBoard(), authenticator: Authenticator(tokens: TokenStore(), anonymousRole: .admin),
                                    version: "test")
        let port = try loop.listen(host: "127.0.0.1", port: 0) { connection in
            connection.handler = HTTPSession(context: context, connection: connection)
        }
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
