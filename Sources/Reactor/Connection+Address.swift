import Glibc

extension Connection {
    /// The peer's address without the port ("10.0.0.7", "::1"): the unit that per-address
    /// limits and refusal audits count by.
    public var peerAddress: String { Connection.address(ofPeer: peer) }

    /// "10.0.0.7:5123" → "10.0.0.7"; "[::1]:5123" → "::1".
    public static func address(ofPeer peer: String) -> String {
        // On the UTF-8 view (an address is ASCII): `Character` searches cost ~7,000 instructions
        // per call, and the address is asked for on every request.
        let bytes = peer.utf8
        if bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
            return String(peer[bytes.index(after: bytes.startIndex)..<close])
        }
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) { return String(peer[..<colon]) }
        return peer
    }

    /// The local address this connection was accepted on ("127.0.0.1", "::1"), or nil. A
    /// literal address in a Host header that equals it names this server, whatever it resolves to.
    public var localAddress: String? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        let host = Sockets.describeEndpoint(address).host
        return host.hasPrefix("::ffff:") ? String(host.dropFirst(7)) : host
    }
}
