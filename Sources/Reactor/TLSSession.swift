import COpenSSL
import Glibc

/// One server-side `SSL` over a non-blocking socket, driven by the loop.
///
/// Every call returns instead of blocking; what OpenSSL needs next is recorded in flags the loop
/// turns into epoll interest. The two crossed cases matter: a read can need the socket writable
/// (it has a handshake or key-update message to send) and a write can need it readable.
final class TLSSession {
    /// What one OpenSSL call achieved.
    enum Outcome: Equatable {
        case transferred(Int)
        case wantRead
        case wantWrite
        /// The peer sent close_notify, or the socket reached EOF.
        case closed
        /// A protocol or socket error; `plainHTTP` when the "handshake" was an HTTP request.
        case failed(plainHTTP: Bool)
    }

    let ssl: OpaquePointer
    private(set) var isHandshaking = true
    var handshakeWantsWrite = false
    /// SSL_read stopped on WANT_WRITE: retry the read when the socket turns writable.
    var readWantsWrite = false
    /// SSL_write stopped on WANT_READ: retry the flush after the next read.
    var writeWantsRead = false
    /// A record OpenSSL accepted but could not send yet. OpenSSL requires the retry to carry the
    /// same bytes, so they leave the outbound queue (a later `dropUnstarted` cannot touch them)
    /// and live here until written.
    var stalledRecord: [UInt8] = []
    /// After a fatal error no close_notify may be sent.
    private(set) var hasFailed = false
    private var shutdownSent = false

    init?(context: TLSContext, fd: Int32) {
        guard let ssl = SSL_new(context.raw) else { return nil }
        self.ssl = ssl
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
    }

    deinit { SSL_free(ssl) }

    func handshake() -> Outcome {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            isHandshaking = false
            handshakeWantsWrite = false
            return .transferred(0)
        }
        return outcome(of: rc)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        ERR_clear_error()
        let rc = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
        return rc > 0 ? .transferred(Int(rc)) : outcome(of: rc)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        ERR_clear_error()
        let rc = SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
        return rc > 0 ? .transferred(Int(rc)) : outcome(of: rc)
    }

    /// Decrypted bytes (or unprocessed records) already inside OpenSSL: level-triggered epoll
    /// cannot see them, so the loop must come back without waiting for the socket.
    var hasBufferedInput: Bool { SSL_has_pending(ssl) == 1 }

    /// Sends close_notify once, without waiting for the peer's (best effort, non-blocking).
    func sendCloseNotify() {
        guard !shutdownSent, !hasFailed, !isHandshaking else { return }
        shutdownSent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Negotiated protocol, e.g. "TLSv1.3".
    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Negotiated ALPN protocol, if any.
    var alpnProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    private func outcome(of rc: Int32) -> Outcome {
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            hasFailed = true
            ERR_clear_error()
            return (rc == 0 || errno == 0) ? .closed : .failed(plainHTTP: false)
        default:
            hasFailed = true
            let error = ERR_peek_last_error()
            ERR_clear_error()
            return .failed(plainHTTP: ERR_GET_LIB(error) == ERR_LIB_SSL && ERR_GET_REASON(error) == SSL_R_HTTP_REQUEST)
        }
    }
}
