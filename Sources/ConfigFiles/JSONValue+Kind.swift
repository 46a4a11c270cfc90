import JSON

extension JSONValue {
    /// "object", "array", "string", "number", "boolean" or "null": what config errors say was found.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
