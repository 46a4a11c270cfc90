import COpenSSL
import Foundation
import Glibc
import TestSupport
import Testing
@testable import Reactor

@Suite(.serialized) struct TLSContextTests {
    @Test func loadsAMatchingCertificateAndKey() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (cert, key) = try certificates.selfSigned("a")
        let context = try TLSContext(certificateChainFile: cert, privateKeyFile: key)
        #expect(context.certificateChainFile == cert)
    }

    @Test func missingCertificateNamesTheFile() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (_, key) = try certificates.selfSigned("a")
        let missing = certificates.path("nope.pem")
        #expect {
            try TLSContext(certificateChainFile: missing, privateKeyFile: key)
        } throws: { error in
            "\(error)" == "certificate \(missing): No such file or directory"
        }
    }

    @Test func mismatchedKeyIsRefused() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (certA, _) = try certificates.selfSigned("a")
        let (_, keyB) = try certificates.selfSigned("b")
        #expect {
            try TLSContext(certificateChainFile: certA, privateKeyFile: keyB)
        } throws: { error in
            let text = "\(error)"
            return text.contains("does not match") && text.contains(keyB) && !text.contains("\n")
        }
    }

    @Test func aKeyFileIsNotACertificate() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (_, key) = try certificates.selfSigned("a")
        #expect {
            try TLSContext(certificateChainFile: key, privateKeyFile: key)
        } throws: { error in
            "\(error)".hasPrefix("certificate \(key): not a usable PEM certificate chain")
        }
    }
}

@Suite(.serialized) struct TLSTransportTests {
    @Test func echoesOverTLS13WithALPNAndLargeWrites() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (cert, key) = try certificates.selfSigned("a")
        var options = EventLoop.Options()
        options.outboundCapBytes = 8 << 20
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: cert, privateKeyFile: key), options: options)
        defer { box.stop() }

        let client = TLSTestClient(port: box.port, trusting: cert)
        #expect(client.handshake())
        #expect(client.write(Array("hello".utf8)))
        #expect(client.read(5) == Array("hello".utf8))
        #expect(box.notes.contains("version TLSv1.3"))
        #expect(box.notes.contains("alpn http/1.1"))
        #expect(box.notes.contains("secure true"))

        // 2 MiB written before reading anything back (the server keeps reading and queues the
        // echo): its SSL_write hits a full socket (WANT_WRITE), keeps the stalled record and
        // resumes on EPOLLOUT once we read.
        let payload = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        #expect(client.write(payload))
        let echoed = client.read(payload.count)
        let intact = echoed == payload   // compared outside #expect so a failure does not print 4 MiB
        #expect(intact, "\(echoed.count) of \(payload.count) bytes came back, intact: \(intact)")
    }

    @Test func tls12IsTheFloor() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (cert, key) = try certificates.selfSigned("a")
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: cert, privateKeyFile: key))
        defer { box.stop() }

        let tls12 = TLSTestClient(port: box.port, trusting: cert, maxVersion: TLS1_2_VERSION)
        #expect(tls12.handshake())
        #expect(String(cString: SSL_get_version(tls12.ssl)) == "TLSv1.2")
        #expect(String(cString: SSL_CIPHER_get_name(SSL_get_current_cipher(tls12.ssl))).hasPrefix("ECDHE-"))

        let tls11 = TLSTestClient(port: box.port, trusting: cert, maxVersion: TLS1_1_VERSION)
        SSL_set_security_level(tls11.ssl, 0)
        _ = SSL_ctrl(tls11.ssl, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_VERSION), nil)
        #expect(!tls11.handshake())
    }

    @Test func servesTheIntermediateFromAChainFile() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (root, chain, key) = try certificates.chain()
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: chain, privateKeyFile: key))
        defer { box.stop() }

        // The client trusts only the root: verification succeeds only if the intermediate is sent.
        let client = TLSTestClient(port: box.port, trusting: root)
        #expect(client.handshake())
        #expect(client.peerCommonName == "localhost")
    }

    @Test func inputLeftInsideOpenSSLIsDeliveredWithoutNewSocketEvents() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (cert, key) = try certificates.selfSigned("a")
        var options = EventLoop.Options()
        options.readBudgetPerTurn = 10   // one SSL_read per turn, so the second record waits in OpenSSL
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: cert, privateKeyFile: key), options: options)
        defer { box.stop() }

        let client = TLSTestClient(port: box.port, trusting: cert)
        #expect(client.handshake())
        // Two records in one TCP segment: read-ahead pulls both into OpenSSL with one read(), and
        // epoll has nothing more to report once the first is consumed.
        var one: Int32 = 1
        setsockopt(client.fd, Int32(IPPROTO_TCP), TCP_CORK, &one, socklen_t(MemoryLayout<Int32>.size))
        client.write(Array("first-record|".utf8))
        client.write(Array("second-record".utf8))
        var zero: Int32 = 0
        setsockopt(client.fd, Int32(IPPROTO_TCP), TCP_CORK, &zero, socklen_t(MemoryLayout<Int32>.size))
        #expect(client.read(26) == Array("first-record|second-record".utf8))
    }

    @Test func stalledHandshakeIsClosedByTheTimeoutWhileOthersAreServed() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (cert, key) = try certificates.selfSigned("a")
        var options = EventLoop.Options()
        options.tlsHandshakeTimeout = 0.3
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: cert, privateKeyFile: key), options: options)
        defer { box.stop() }

        let silent = connectTCP(port: box.port)
        defer { Glibc.close(silent) }
        let client = TLSTestClient(port: box.port, trusting: cert)
        #expect(client.handshake())
        #expect(client.write(Array("served".utf8)))
        #expect(client.read(6) == Array("served".utf8))

        let started = Date()
        let end = readPlainToEnd(silent)
        #expect(end.eof && end.bytes.isEmpty)
        #expect(Date().timeIntervalSince(started) < 4)
        box.onLoop { loop in
            #expect(loop.tlsHandshakeTimeouts == 1)
            #expect(loop.tlsHandshakeFailures == 0)
        }
        // The established connection outlives the timeout.
        #expect(client.write(Array("still".utf8)))
        #expect(client.read(5) == Array("still".utf8))
    }

    @Test func plainHTTPOnTheTLSPortGetsAClearText400() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (cert, key) = try certificates.selfSigned("a")
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: cert, privateKeyFile: key))
        defer { box.stop() }

        let fd = connectTCP(port: box.port)
        defer { Glibc.close(fd) }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let answer = readPlainToEnd(fd)
        #expect(answer.eof)
        #expect(String(decoding: answer.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(!box.notes.contains("secure true"))   // the handler never saw those bytes
        box.onLoop { loop in #expect(loop.tlsHandshakeFailures == 1) }
    }

    @Test func closeAfterFlushEndsWithCloseNotify() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (cert, key) = try certificates.selfSigned("a")
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: cert, privateKeyFile: key))
        defer { box.stop() }

        let client = TLSTestClient(port: box.port, trusting: cert)
        #expect(client.handshake())
        client.write(Array("bye".utf8))
        let end = client.readToEnd()
        #expect(end.bytes == Array("ok".utf8))
        #expect(end.clean)
    }

    @Test func overflowDropKeepsARecordStalledInsideOpenSSL() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (cert, key) = try certificates.selfSigned("a")
        var options = EventLoop.Options()
        options.outboundCapBytes = 128 * 1024
        options.outboundHardCapBytes = 128 * 1024   // over the cap is over the hard cap: judged at once
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: cert, privateKeyFile: key),
                                 options: options, sendBuffer: 8192)
        defer { box.stop() }

        let client = TLSTestClient(port: box.port, trusting: cert, receiveBuffer: 4096)
        #expect(client.handshake())
        // First flood: the small socket buffers fill and SSL_write stops on WANT_WRITE with a
        // whole 16 KiB chunk inside OpenSSL. Second flood: the queue passes the cap, the handler
        // drops unstarted output and queues "END". The stalled record has started: dropping it
        // (or retrying SSL_write with other bytes) would break the TLS stream.
        client.write(Array("flood".utf8))
        Thread.sleep(forTimeInterval: 0.2)
        client.write(Array("flood".utf8))
        Thread.sleep(forTimeInterval: 0.2)
        let (bytes, clean) = client.readToEnd()
        #expect(clean, "the TLS stream broke (bad record) or ended without close_notify")
        let endsWithEND = bytes.suffix(3) == Array("END".utf8)
        #expect(endsWithEND)
        let floodBytes = bytes.count - 3
        #expect(floodBytes % (16 * 1024) == 0 && floodBytes < 256 * 1024, "\(floodBytes) bytes of flood")
        #expect(box.notes.contains("overflow"))
    }

    @Test func clientKeyUpdateWhileAServerWriteIsStalled() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (cert, key) = try certificates.selfSigned("a")
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: cert, privateKeyFile: key),
                                 sendBuffer: 8192)
        defer { box.stop() }

        let client = TLSTestClient(port: box.port, trusting: cert, receiveBuffer: 4096)
        #expect(client.handshake())
        client.write(Array("flood".utf8))   // 128 KiB the small buffers cannot take: a record stalls
        Thread.sleep(forTimeInterval: 0.2)
        // A TLS 1.3 KeyUpdate asking the server to update too: its SSL_read must take the new
        // keys and its answer must follow the stalled record without corrupting the stream.
        #expect(SSL_key_update(client.ssl, SSL_KEY_UPDATE_REQUESTED) == 1)
        client.write(Array("after-key-update".utf8))
        let received = client.read(8 * 16 * 1024 + 16)
        let expected = (0..<8).flatMap { [UInt8](repeating: UInt8($0), count: 16 * 1024) } + Array("after-key-update".utf8)
        let intact = received == expected
        #expect(intact, "\(received.count) bytes back")
        #expect(client.write(Array("again".utf8)) && client.read(5) == Array("again".utf8))
    }

    @Test func replacedContextServesNewConnectionsAndKeepsOldOnes() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (certA, keyA) = try certificates.selfSigned("a", commonName: "first")
        let (certB, keyB) = try certificates.selfSigned("b", commonName: "second")
        let box = try TLSLoopBox(context: try TLSContext(certificateChainFile: certA, privateKeyFile: keyA))
        defer { box.stop() }

        let before = TLSTestClient(port: box.port, trusting: certA)
        #expect(before.handshake())
        #expect(before.peerCommonName == "first")

        let replacement = try TLSContext(certificateChainFile: certB, privateKeyFile: keyB)
        box.onLoop { loop in
            #expect(loop.replaceTLSContext(replacement) == 1)
        }

        let after = TLSTestClient(port: box.port, trusting: certB)
        #expect(after.handshake())
        #expect(after.peerCommonName == "second")
        #expect(after.write(Array("new".utf8)) && after.read(3) == Array("new".utf8))
        #expect(before.write(Array("old".utf8)) && before.read(3) == Array("old".utf8))
    }
}
