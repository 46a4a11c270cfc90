import COpenSSL
import Glibc

extension TLSContext {
    /// A context for outbound TLS (`rediss://`): TLS 1.2 or later, the server's certificate
    /// verified against `caFile` (PEM) or the system's trust store, and its name or IP checked
    /// per connection (`TLSSession(clientOf:fd:serverName:)`).
    public static func client(caFile: String?) throws(TLSError) -> TLSContext {
        if let caFile { try requireReadable(caFile, what: "CA certificate") }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError("cannot create a TLS client context: \(lastErrorReason())")
        }
        let made = TLSContext(raw: context, certificateChainFile: "", privateKeyFile: "")
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        let mode = Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS)
        _ = SSL_CTX_ctrl(context, SSL_CTRL_MODE, mode, nil)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw TLSError("CA certificate \(caFile): not a usable PEM certificate (\(lastErrorReason()))")
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw TLSError("cannot load the system's trusted certificates: \(lastErrorReason())")
        }
        return made
    }
}

extension TLSSession {
    /// A client-side `SSL` for a connection this loop opened: it speaks first (the ClientHello),
    /// so it starts out wanting the socket writable, which is also how the loop learns that the
    /// non-blocking connect completed. `serverName` is sent as SNI (names only) and checked
    /// against the certificate (names or IP addresses).
    convenience init?(clientOf context: TLSContext, fd: Int32, serverName: String) {
        self.init(context: context, fd: fd)
        SSL_set_connect_state(ssl)
        handshakeWantsWrite = true
        var probe = in6_addr()
        let isAddress = inet_pton(AF_INET, serverName, &probe) == 1 || inet_pton(AF_INET6, serverName, &probe) == 1
        if isAddress {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 else { return nil }
        } else {
            guard SSL_set1_host(ssl, serverName) == 1 else { return nil }
            _ = serverName.withCString { name in
                SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: name))
            }
        }
    }
}
