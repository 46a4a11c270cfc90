/// A command as RESP writes it: an array of bulk strings (`*3\r\n$4\r\nXADD\r\n…`). Every
/// argument is binary-safe, so no quoting or escaping exists to get wrong.
public struct RESPCommand: Sendable, Equatable {
    public var arguments: [[UInt8]]

    public init(_ arguments: [[UInt8]]) { self.arguments = arguments }
    public init(_ arguments: [String]) { self.arguments = arguments.map { Array($0.utf8) } }

    /// The command's name, upper-cased (for diagnostics; never the arguments, which may hold a password).
    public var name: String { arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? "" }

    /// The request bytes.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(arguments.reduce(16) { $0 + $1.count + 16 })
        append(to: &bytes)
        return bytes
    }

    public func append(to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "*"))
        bytes.append(contentsOf: String(arguments.count).utf8)
        bytes.append(contentsOf: [13, 10])
        for argument in arguments {
            bytes.append(UInt8(ascii: "$"))
            bytes.append(contentsOf: String(argument.count).utf8)
            bytes.append(contentsOf: [13, 10])
            bytes.append(contentsOf: argument)
            bytes.append(contentsOf: [13, 10])
        }
    }
}

extension RESPValue {
    /// The reply bytes a server would send for this value (tests, the fuzz harness's round trip).
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        append(to: &bytes)
        return bytes
    }

    public func append(to bytes: inout [UInt8]) {
        func line(_ type: Character, _ text: String) {
            bytes.append(contentsOf: String(type).utf8)
            bytes.append(contentsOf: text.utf8)
            bytes.append(contentsOf: [13, 10])
        }
        switch self {
        case .simple(let text): line("+", text)
        case .error(let text): line("-", text)
        case .integer(let value): line(":", String(value))
        case .bulk(nil): line("$", "-1")
        case .bulk(let data?):
            line("$", String(data.count))
            bytes.append(contentsOf: data)
            bytes.append(contentsOf: [13, 10])
        case .array(nil): line("*", "-1")
        case .array(let items?):
            line("*", String(items.count))
            for item in items { item.append(to: &bytes) }
        }
    }
}
