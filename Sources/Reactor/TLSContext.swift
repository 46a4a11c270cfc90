import COpenSSL
import Glibc

/// A server-side TLS configuration: certificate chain, private key and protocol policy, loaded
/// once and shared by every connection accepted while it is current.
///
/// Policy: TLS 1.2 minimum (1.3 negotiated whenever the client has it), forward-secret AEAD
/// ciphers only for 1.2, no renegotiation, no compression, ALPN `http/1.1`.
///
/// Reloading (SIGHUP) builds a new `TLSContext` and hands it to `EventLoop.replaceTLSContext`;
/// connections already up keep the old one, because each `SSL` holds its own reference to the
/// `SSL_CTX` it was created from.
public final class TLSContext: @unchecked Sendable {
    // Safety: the SSL_CTX is fully configured in init and only read afterwards (SSL_new), which
    // OpenSSL allows from any thread.
    let raw: OpaquePointer

    /// The certificate chain file this context was loaded from (for logs).
    public let certificateChainFile: String
    public let privateKeyFile: String

    /// TLS 1.2 suites (Mozilla "intermediate"): ECDHE key exchange and AEAD only. TLS 1.3 suites
    /// are OpenSSL's defaults, which are all modern.
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    // Macros Swift cannot import (they are built with a function-like macro).
    private static let optionNoCompression: UInt64 = 1 << 17
    private static let optionNoRenegotiation: UInt64 = 1 << 30

    /// Loads a PEM certificate chain (leaf first, then intermediates) and its PEM private key.
    /// Every failure is one line naming the file and the reason.
    public init(certificateChainFile: String, privateKeyFile: String) throws(TLSError) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        try Self.requireReadable(certificateChainFile, what: "certificate")
        try Self.requireReadable(privateKeyFile, what: "private key")

        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError("cannot create a TLS context: \(Self.lastErrorReason())")
        }
        raw = context
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        _ = SSL_CTX_set_options(context, Self.optionNoCompression | Self.optionNoRenegotiation)
        // Partial writes and a moving buffer let a flush hand OpenSSL one coalesced record from
        // scratch memory and retry it from a copy; released buffers keep idle sockets cheap
        // (20,000 connections would otherwise pin two 16 KiB buffers each).
        let mode = Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS)
        _ = SSL_CTX_ctrl(context, SSL_CTRL_MODE, mode, nil)
        // Read-ahead: one read() takes whole records (not a 5-byte header and then the body). It
        // leaves input inside OpenSSL that epoll cannot see, which the loop handles via SSL_has_pending.
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_READ_AHEAD, 1, nil)
        guard SSL_CTX_set_cipher_list(context, Self.tls12Ciphers) == 1 else {
            throw TLSError("cannot set the TLS 1.2 cipher list: \(Self.lastErrorReason())")
        }
        SSL_CTX_set_alpn_select_cb(context, { _, out, outLength, offered, offeredLength, _ in
            guard let out, let outLength, let offered else { return SSL_TLSEXT_ERR_NOACK }
            return selectHTTP11(out: out, outLength: outLength, offered: offered, offeredLength: Int(offeredLength))
        }, nil)

        ERR_clear_error()
        guard SSL_CTX_use_certificate_chain_file(context, certificateChainFile) == 1 else {
            throw TLSError("certificate \(certificateChainFile): not a usable PEM certificate chain (\(Self.lastErrorReason()))")
        }
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            let reason = Self.lastErrorReason()
            if reason.contains("mismatch") {
                throw TLSError("private key \(privateKeyFile) does not match certificate \(certificateChainFile) (\(reason))")
            }
            throw TLSError("private key \(privateKeyFile): not a usable PEM private key (\(reason))")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError("private key \(privateKeyFile) does not match certificate \(certificateChainFile) (\(Self.lastErrorReason()))")
        }
    }

    /// A context made elsewhere (the client context of TLSClient.swift).
    init(raw: OpaquePointer, certificateChainFile: String, privateKeyFile: String) {
        self.raw = raw
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }

    deinit { SSL_CTX_free(raw) }

    static func requireReadable(_ path: String, what: String) throws(TLSError) {
        guard let file = fopen(path, "r") else {
            throw TLSError("\(what) \(path): \(String(cString: strerror(errno)))")
        }
        fclose(file)
    }

    /// The reason text of the first error in OpenSSL's queue on this thread (the root cause;
    /// later entries only say which call gave up), then clears the queue.
    static func lastErrorReason() -> String {
        let code = ERR_peek_error()
        defer { ERR_clear_error() }
        guard code != 0 else { return "unknown OpenSSL error" }
        if let reason = ERR_reason_error_string(code) { return String(cString: reason) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// ALPN: picks `http/1.1` from the client's length-prefixed list, or answers without ALPN so a
/// client that offered only something else still gets a handshake (and then an HTTP error).
private func selectHTTP11(out: UnsafeMutablePointer<UnsafePointer<UInt8>?>, outLength: UnsafeMutablePointer<UInt8>,
                          offered: UnsafePointer<UInt8>, offeredLength: Int) -> Int32 {
    let wanted: [UInt8] = Array("http/1.1".utf8)
    var index = 0
    while index < offeredLength {
        let length = Int(offered[index])
        let start = index + 1
        guard start + length <= offeredLength else { break }
        if length == wanted.count && (0..<length).allSatisfy({ offered[start + $0] == wanted[$0] }) {
            out.pointee = offered + start
            outLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        index = start + length
    }
    return SSL_TLSEXT_ERR_NOACK
}

/// A TLS set-up failure, worded for the operator (one line).
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
