import COpenSSL
import Foundation
import Glibc
import Synchronization
import TestSupport
@testable import Reactor

/// Certificates made with the openssl command line in a fresh temporary directory.
struct TestCertificates {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "ladderwire-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// A self-signed P-256 leaf for localhost/127.0.0.1; returns (certificate, key) paths.
    @discardableResult
    func selfSigned(_ name: String, commonName: String = "localhost") throws -> (String, String) {
        try shell("""
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
            -subj /CN=\(commonName) -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
            -keyout \(name).key.pem -out \(name).cert.pem
            """)
        return (path("\(name).cert.pem"), path("\(name).key.pem"))
    }

    /// Root CA → intermediate → leaf. Returns (root certificate, chain file leaf+intermediate, leaf key).
    func chain() throws -> (String, String, String) {
        try shell("""
            set -e
            ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            openssl req -x509 $ec -days 30 -subj /CN=TestRoot -keyout root.key -out root.pem
            openssl req -new $ec -subj /CN=TestIntermediate -keyout int.key -out int.csr
            printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > int.ext
            openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30 -extfile int.ext -out int.pem
            openssl req -new $ec -subj /CN=localhost -keyout leaf.key -out leaf.csr
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > leaf.ext
            openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 30 -extfile leaf.ext -out leaf.pem
            cat leaf.pem int.pem > chain.pem
            """)
        return (path("root.pem"), path("chain.pem"), path("leaf.key"))
    }

    func shell(_ script: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CertificateScriptFailed(script: script) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

struct CertificateScriptFailed: Error { let script: String }

final class Notes: Sendable {
    private let items = Mutex<[String]>([])
    func append(_ item: String) { items.withLock { $0.append(item) } }
    func contains(_ item: String) -> Bool { items.withLock { $0.contains(item) } }
    var all: [String] { items.withLock { $0 } }
}

/// Echoes; "flood" queues eight 16 KiB chunks (one TLS record each), "bye" answers "ok" and closes
/// after flushing. Notes the negotiated TLS version and ALPN on the first bytes.
final class TLSEchoHandler: ConnectionHandler {
    let notes: Notes
    var noted = false
    init(notes: Notes) { self.notes = notes }

    func received(_ bytes: ArraySlice<UInt8>, on connection: Connection) {
        if !noted {
            noted = true
            notes.append("version \(connection.tlsProtocolVersion ?? "none")")
            notes.append("alpn \(connection.alpnProtocol ?? "none")")
            notes.append("secure \(connection.isSecure)")
        }
        switch Array(bytes) {
        case Array("flood".utf8):
            for index in 0..<8 { connection.send([UInt8](repeating: UInt8(index), count: 16 * 1024)) }
        case Array("bye".utf8):
            connection.send(Array("ok".utf8))
            connection.closeAfterFlush(within: 5)
        default:
            connection.send(Array(bytes))
        }
    }

    func outboundOverflowed(_ connection: Connection) {
        notes.append("overflow")
        connection.dropUnsentOutput()
        connection.send(Array("END".utf8))
        connection.closeAfterFlush(within: 5)
    }

    func closed(_ connection: Connection) { notes.append("closed") }
}

/// A loop on its own thread with one TLS listener on 127.0.0.1.
final class TLSLoopBox: @unchecked Sendable {
    let loop: EventLoop
    let port: Int
    let notes = Notes()
    let thread: Thread

    /// `sendBuffer` shrinks each accepted socket's SO_SNDBUF, so writes stall early.
    init(context: TLSContext, options: EventLoop.Options = EventLoop.Options(), sendBuffer: Int32? = nil) throws {
        let loop = try EventLoop(options: options)
        self.loop = loop
        let notes = self.notes
        port = try loop.listen(host: "127.0.0.1", port: 0, tls: context) { connection in
            if var size = sendBuffer {
                setsockopt(connection.fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            connection.handler = TLSEchoHandler(notes: notes)
        }
        thread = Thread { loop.run() }
        thread.start()
    }

    func stop() { loop.post { [loop] in loop.stop() } }

    /// Runs `work` on the loop thread and waits for it.
    func onLoop(_ work: @escaping @Sendable (EventLoop) -> Void) {
        let done = DispatchSemaphore(value: 0)
        loop.post { [loop] in
            work(loop)
            done.signal()
        }
        done.wait()
    }
}

/// A blocking OpenSSL client for the tests (5 s receive timeout on the socket).
final class TLSTestClient {
    let fd: Int32
    let context: OpaquePointer
    let ssl: OpaquePointer

    init(port: Int, trusting caFile: String, maxVersion: Int32? = nil, receiveBuffer: Int32? = nil) {
        fd = connectTCP(port: port, receiveBuffer: receiveBuffer)
        context = SSL_CTX_new(TLS_client_method())!
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        _ = SSL_CTX_load_verify_locations(context, caFile, nil)
        if let maxVersion { _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(maxVersion), nil) }
        ssl = SSL_new(context)!
        _ = SSL_set_fd(ssl, fd)
        let protocols: [UInt8] = [2] + Array("h2".utf8) + [8] + Array("http/1.1".utf8)
        _ = SSL_set_alpn_protos(ssl, protocols, UInt32(protocols.count))
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
        Glibc.close(fd)
    }

    /// True when the handshake completed and the server's certificate verified.
    func handshake() -> Bool {
        SSL_connect(ssl) == 1 && SSL_get_verify_result(ssl) == X509_V_OK
    }

    var peerCommonName: String? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, &buffer, Int32(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
            if n <= 0 { return false }
            offset += Int(n)
        }
        return true
    }

    /// Reads until `count` bytes arrived or the stream ended.
    func read(_ count: Int) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while result.count < count {
            let n = SSL_read(ssl, &buffer, Int32(min(buffer.count, count - result.count)))
            if n <= 0 { break }
            result += buffer[0..<Int(n)]
        }
        return result
    }

    /// Reads everything up to the end; `clean` when the server sent close_notify.
    func readToEnd() -> (bytes: [UInt8], clean: Bool) {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = SSL_read(ssl, &buffer, Int32(buffer.count))
            if n > 0 {
                result += buffer[0..<Int(n)]
                continue
            }
            return (result, SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN)
        }
    }
}

/// Reads a plain socket until EOF (or the 5 s timeout); returns the bytes and whether EOF came.
func readPlainToEnd(_ fd: Int32) -> (bytes: [UInt8], eof: Bool) {
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = Glibc.read(fd, &buffer, buffer.count)
        if n > 0 { result += buffer[0..<n]; continue }
        return (result, n == 0 || errno == ECONNRESET)
    }
}
