import COpenSSL

/// SHA-1 through OpenSSL's EVP interface (the low-level `SHA1_*` calls are deprecated in
/// OpenSSL 3). Used only for Sec-WebSocket-Accept, where RFC 6455 fixes the algorithm.
enum SHA1Digest {
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                EVP_Digest(input.baseAddress, input.count, out.baseAddress, &length, EVP_sha1(), nil)
            }
        }
        precondition(ok == 1 && length == 20, "OpenSSL SHA-1 failed")
        return Array(output.prefix(Int(length)))
    }
}
