import JSON

extension JSONValue {
    /// Indented JSON text (two spaces) for `config check`: Hub only renders compact JSON, which
    /// is right on the wire but unreadable for a whole configuration.
    var prettyRendered: String { pretty(indent: "") }

    private func pretty(indent: String) -> String {
        let inner = indent + "  "
        switch self {
        case .array(let items) where !items.isEmpty:
            // A list of plain values stays on one line: ["replay", "sim"].
            if items.allSatisfy({ !$0.isContainer }) {
                return "[" + items.map(\.serialized).joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { inner + $0.pretty(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members) where !members.isEmpty:
            return "{\n" + members.map { inner + JSONValue.string($0.0).serialized + ": " + $0.1.pretty(indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        default:
            return serialized
        }
    }

    private var isContainer: Bool {
        switch self {
        case .array, .object: return true
        default: return false
        }
    }
}
