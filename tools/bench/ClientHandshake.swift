import Foundation
import WebSocketCore

/// The client side of the opening handshake: the request bytes, and recognising the server's 101.
struct ClientHandshake {
    let key: String
    let request: [UInt8]
    /// Offer permessage-deflate (as browsers do: `client_max_window_bits` without a value).
    let offerDeflate: Bool

    init(host: String, port: Int, target: String, offerDeflate: Bool = false) {
        self.offerDeflate = offerDeflate
        var random = SystemRandomNumberGenerator()
        let keyBytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
        key = Data(keyBytes).base64EncodedString()
        let text = "GET \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
            + (offerDeflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "") + "\r\n"
        request = Array(text.utf8)
    }

    enum Outcome {
        case incomplete
        /// Switched; the bytes after the header already belong to the WebSocket stream.
        case upgraded(leftover: ArraySlice<UInt8>)
        case refused(String)
    }

    /// Looks for the end of the response header in what has arrived so far.
    func outcome(of received: [UInt8]) -> Outcome {
        guard let end = Self.headerEnd(in: received) else {
            return received.count > 16_384 ? .refused("response header too long") : .incomplete
        }
        let header = String(decoding: received[..<end], as: UTF8.self)
        let statusLine = header.prefix { $0 != "\r" }
        guard statusLine.hasPrefix("HTTP/1.1 101") else { return .refused(String(statusLine)) }
        let expected = "sec-websocket-accept: " + Handshake.acceptValue(forKey: key).lowercased()
        guard header.lowercased().contains(expected) else { return .refused("wrong Sec-WebSocket-Accept") }
        if offerDeflate && !header.lowercased().contains("sec-websocket-extensions: permessage-deflate") {
            return .refused("permessage-deflate was offered and declined")
        }
        return .upgraded(leftover: received[(end + 4)...])
    }

    static func headerEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// Connects, upgrades and returns the socket (blocking) plus the stream bytes already read.
    static func open(_ url: ServerURL, target: String, offerDeflate: Bool = false,
                     timeoutMilliseconds: Int32 = 10_000) throws(ClientSocket.Failure) -> (fd: Int32, leftover: [UInt8]) {
        let fd = try ClientSocket.connect(host: url.host, port: url.port)
        let handshake = ClientHandshake(host: url.host, port: url.port, target: target, offerDeflate: offerDeflate)
        do { try ClientSocket.writeAll(fd, handshake.request) } catch { close(fd); throw error }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            guard ClientSocket.waitReadable(fd, timeoutMilliseconds: timeoutMilliseconds) else {
                close(fd); throw ClientSocket.Failure(description: "no handshake response from \(target) within \(timeoutMilliseconds) ms")
            }
            let count = ClientSocket.read(fd, into: &chunk)
            if count <= 0 && count != -1 {
                close(fd); throw ClientSocket.Failure(description: "connection closed during handshake on \(target)")
            }
            if count > 0 { received.append(contentsOf: chunk[..<count]) }
            switch handshake.outcome(of: received) {
            case .incomplete: continue
            case .upgraded(let leftover): return (fd, Array(leftover))
            case .refused(let why): close(fd); throw ClientSocket.Failure(description: "\(target) refused: \(why)")
            }
        }
    }
}
