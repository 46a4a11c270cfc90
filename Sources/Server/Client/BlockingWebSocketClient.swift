import Foundation
import Glibc
import WebSocketCore

/// A small blocking WebSocket client over a POSIX socket, for the command-line tools
/// (`ladderwire record`): connect, handshake, read text messages. Not used by the server.
final class BlockingWebSocketClient {
    struct Failure: Error, CustomStringConvertible { var description: String }

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var message: [UInt8] = []

    /// `url` like `ws://127.0.0.1:8080/ws?format=json` (plain ws only).
    init(url: String, headers: [String: String] = [:]) throws(Failure) {
        guard let components = URLComponents(string: url), components.scheme == "ws", let host = components.host else {
            throw Failure(description: "--url must look like ws://HOST:PORT/ws, got '\(url)'")
        }
        let port = components.port ?? 80
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { target += "?" + query }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
        guard fd >= 0, connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "cannot connect to \(host):\(port)")
        }
        var keyBytes = [UInt8](repeating: 0, count: 16)
        for i in keyBytes.indices { keyBytes[i] = UInt8.random(in: 0...255) }
        let key = Data(keyBytes).base64EncodedString()
        var request = "GET \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try writeAll(Array(request.utf8))
        while true {
            if let end = find([13, 10, 13, 10]) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                guard head.hasPrefix("HTTP/1.1 101") else {
                    throw Failure(description: "handshake refused: \(head.split(separator: "\r\n").first ?? "")")
                }
                guard head.contains(Handshake.acceptValue(forKey: key)) else { throw Failure(description: "bad Sec-WebSocket-Accept") }
                return
            }
            try fill()
        }
    }

    deinit { Glibc.close(fd) }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where Array(buffer[i..<i + needle.count]) == needle { return i }
        return nil
    }

    private func fill() throws(Failure) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &chunk, chunk.count)
        guard n > 0 else { throw Failure(description: "connection closed") }
        buffer += chunk[0..<n]
    }

    private func writeAll(_ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "write failed") }
            offset += n
        }
    }

    /// The next complete text message (pings answered, pongs skipped); nil after a close.
    func nextText() throws(Failure) -> String? {
        while true {
            while buffer.count < 2 { try fill() }
            let fin = buffer[0] & 0x80 != 0
            let opcode = buffer[0] & 0x0F
            var length = Int(buffer[1] & 0x7F)
            var headerLength = 2
            if length == 126 {
                while buffer.count < 4 { try fill() }
                length = Int(buffer[2]) << 8 | Int(buffer[3])
                headerLength = 4
            } else if length == 127 {
                while buffer.count < 10 { try fill() }
                length = buffer[2..<10].reduce(0) { $0 << 8 | Int($1) }
                headerLength = 10
            }
            while buffer.count < headerLength + length { try fill() }
            let payload = Array(buffer[headerLength..<headerLength + length])
            buffer.removeFirst(headerLength + length)
            switch opcode {
            case 0x8:
                return nil
            case 0x9:
                try writeAll(FrameEncoder.maskedFrame(.pong, payload: payload, maskKey: (1, 2, 3, 4)))
            case 0xA:
                continue
            default:
                message += payload
                if fin {
                    defer { message.removeAll(keepingCapacity: true) }
                    return String(decoding: message, as: UTF8.self)
                }
            }
        }
    }
}
