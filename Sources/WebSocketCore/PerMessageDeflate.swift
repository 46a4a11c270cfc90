/// RFC 7692 permessage-deflate: what was agreed for one connection, and the negotiation that
/// agrees it (pure: header values in, parameters and the response header out).
///
/// The server always answers `server_no_context_takeover`: every message it sends is compressed
/// on its own, so the hub compresses a message once and shares the bytes with every subscriber,
/// and no deflate state is kept per connection between messages (§7.1.1.1 lets a server add it
/// to any offer it accepts).
public struct DeflateParameters: Hashable, Sendable {
    /// The client resets its compression context after each message; the server then frees the
    /// connection's inflate state between messages too.
    public var clientNoContextTakeover = false
    /// The largest LZ77 window the server's messages may use (8…15).
    public var serverMaxWindowBits = 15
    /// The window the client said it uses (15 unless it offered a value); the server inflates
    /// with a 32 KiB window whatever it is, which accepts every smaller one.
    public var clientMaxWindowBits = 15
    /// Whether the client offered `server_max_window_bits` (echoed in the response).
    var serverWindowOffered = false

    public init(clientNoContextTakeover: Bool = false, serverMaxWindowBits: Int = 15, clientMaxWindowBits: Int = 15) {
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.serverWindowOffered = serverMaxWindowBits != 15
    }

    /// The `Sec-WebSocket-Extensions` value of the 101 response.
    public var responseHeaderValue: String {
        var value = "permessage-deflate; server_no_context_takeover"
        if clientNoContextTakeover { value += "; client_no_context_takeover" }
        if serverWindowOffered { value += "; server_max_window_bits=\(serverMaxWindowBits)" }
        return value
    }
}

public enum PerMessageDeflate {
    public static let name = "permessage-deflate"

    /// One extension offer: its name and parameters in order (value nil when absent), or nil if
    /// its syntax is broken.
    struct Offer: Equatable {
        var name: String
        var parameters: [(name: String, value: String?)]
        static func == (a: Offer, b: Offer) -> Bool {
            a.name == b.name && a.parameters.elementsEqual(b.parameters) { $0.name == $1.name && $0.value == $1.value }
        }
    }

    /// The parameters of the first acceptable permessage-deflate offer among all
    /// `Sec-WebSocket-Extensions` values (several offers in one request are tried in order, as
    /// §5.1 asks); nil when none is acceptable (the server then answers without the extension).
    public static func negotiate(_ headerValues: [String]) -> DeflateParameters? {
        for value in headerValues {
            for offer in offers(in: value) {
                guard let offer, offer.name.lowercased() == name else { continue }
                if let accepted = accept(offer) { return accepted }
            }
        }
        return nil
    }

    /// §7.1: each parameter at most once, no unknown ones, window sizes 8…15 without leading zeros.
    static func accept(_ offer: Offer) -> DeflateParameters? {
        var parameters = DeflateParameters()
        var seen: Set<String> = []
        for (rawName, value) in offer.parameters {
            let parameter = rawName.lowercased()
            guard seen.insert(parameter).inserted else { return nil }
            switch parameter {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                parameters.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let value, let bits = windowBits(value) else { return nil }
                parameters.serverMaxWindowBits = bits
                parameters.serverWindowOffered = true
            case "client_max_window_bits":
                if let value {
                    guard let bits = windowBits(value) else { return nil }
                    parameters.clientMaxWindowBits = bits
                }
            default:
                return nil
            }
        }
        return parameters
    }

    static func windowBits(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 2, text.first != "0", text.allSatisfy({ $0.isASCII && $0.isNumber }),
              let bits = Int(text), (8...15).contains(bits) else { return nil }
        return bits
    }

    /// Splits one header value (RFC 6455 §9.1: `1#extension`, `extension = token *(";" param)`,
    /// `param = token ["=" (token | quoted-string)]`) into offers; a malformed offer is nil.
    static func offers(in value: String) -> [Offer?] {
        var result: [Offer?] = []
        var current: [String] = []     // name, then "param" or "param=value" pieces
        var piece = ""
        var inQuotes = false
        var escaped = false
        var broken = false
        func endPiece() { current.append(piece.trimmingWhitespace()); piece = "" }
        func endOffer() {
            endPiece()
            defer { current = []; broken = false }
            if current.count == 1 && current[0].isEmpty { return }   // empty list element: allowed
            result.append(broken ? nil : makeOffer(current))
        }
        for character in value {
            if inQuotes {
                if escaped { escaped = false; piece.append(character); continue }
                if character == "\\" { escaped = true; piece.append(character); continue }
                if character == "\"" { inQuotes = false }
                piece.append(character)
                continue
            }
            switch character {
            case "\"": inQuotes = true; piece.append(character)
            case ";": endPiece()
            case ",": endOffer()
            default: piece.append(character)
            }
        }
        if inQuotes { broken = true }
        endOffer()
        return result
    }

    private static func makeOffer(_ pieces: [String]) -> Offer? {
        guard let name = pieces.first, isToken(name) else { return nil }
        var parameters: [(name: String, value: String?)] = []
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else {
                guard isToken(piece) else { return nil }
                parameters.append((piece, nil))
                continue
            }
            let key = String(piece[..<equals]).trimmingWhitespace()
            var value = String(piece[piece.index(after: equals)...]).trimmingWhitespace()
            guard isToken(key) else { return nil }
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else { return nil }
                var unquoted = ""
                var escaped = false
                for character in value.dropFirst().dropLast() {
                    if escaped { unquoted.append(character); escaped = false } else if character == "\\" { escaped = true } else { unquoted.append(character) }
                }
                // §7.1: a quoted value must still be a token once unquoted.
                value = unquoted
            }
            guard isToken(value) else { return nil }
            parameters.append((key, value))
        }
        return Offer(name: name, parameters: parameters)
    }

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}

/// Compresses outgoing messages for every connection of a loop: one `RawDeflater` per window
/// size, reset between messages (no per-connection deflate state). Loop thread only.
public final class MessageDeflater {
    private var deflaters: [Int: RawDeflater] = [:]
    /// Payload bytes before and after compression, of the messages sent compressed (/metrics).
    public private(set) var bytesIn = 0
    public private(set) var bytesOut = 0

    public init() {}

    /// The permessage-deflate payload for `payload` under `windowBits`, or nil when it goes
    /// uncompressed. `minimumBytes` 0 (`on`) compresses everything; above 0 (`auto`) only
    /// payloads at least that long, and only when the result is smaller.
    public func compress(_ payload: [UInt8], windowBits: Int, minimumBytes: Int) -> [UInt8]? {
        guard payload.count >= minimumBytes else { return nil }
        let key = Swift.min(Swift.max(windowBits, 8), 15)
        let deflater: RawDeflater
        if let existing = deflaters[key] {
            deflater = existing
        } else {
            // zlib makes no raw 256-byte window; Huffman-only output has no back-references.
            guard let made = key == 8 ? RawDeflater(windowBits: 9, huffmanOnly: true) : RawDeflater(windowBits: key) else { return nil }
            deflaters[key] = made
            deflater = made
        }
        let compressed = deflater.compressMessage(payload)
        if minimumBytes > 0 && compressed.count >= payload.count { return nil }
        bytesIn += payload.count
        bytesOut += compressed.count
        return compressed
    }

    /// Complete unmasked server frames (one, or several back to back) with each whole data
    /// frame's payload compressed and RSV1 set; control frames and fragments pass unchanged.
    public func deflateFrames(_ frames: [UInt8], windowBits: Int, minimumBytes: Int) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(frames.count)
        var index = 0
        while index < frames.count {
            guard let (headerLength, payloadLength) = Self.serverFrameLength(frames, at: index),
                  index + headerLength + payloadLength <= frames.count else {
                output.append(contentsOf: frames[index...])   // not ours to understand: unchanged
                break
            }
            let first = frames[index]
            let opcode = first & 0x0F
            let payloadStart = index + headerLength
            let end = payloadStart + payloadLength
            if first & 0xF0 == 0x80 && (opcode == 1 || opcode == 2),
               let compressed = compress(Array(frames[payloadStart..<end]), windowBits: windowBits, minimumBytes: minimumBytes) {
                output.append(contentsOf: FrameEncoder.header(Opcode(rawValue: opcode)!, payloadLength: compressed.count, compressed: true))
                output.append(contentsOf: compressed)
            } else {
                output.append(contentsOf: frames[index..<end])
            }
            index = end
        }
        return output
    }

    static func serverFrameLength(_ bytes: [UInt8], at index: Int) -> (header: Int, payload: Int)? {
        guard index + 2 <= bytes.count, bytes[index + 1] & 0x80 == 0 else { return nil }
        let short = Int(bytes[index + 1] & 0x7F)
        if short < 126 { return (2, short) }
        if short == 126 {
            guard index + 4 <= bytes.count else { return nil }
            return (4, Int(bytes[index + 2]) << 8 | Int(bytes[index + 3]))
        }
        guard index + 10 <= bytes.count else { return nil }
        var value = 0
        for offset in 2..<10 { value = value << 8 | Int(bytes[index + offset]) }
        return value < 0 ? nil : (10, value)
    }
}
