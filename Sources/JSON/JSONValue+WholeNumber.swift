extension JSONValue {
    /// A JSON number that is a whole number: `3`, and also `3.0` or `3e0`, which JSONValue keeps as
    /// exact text. Nil for anything else, including whole numbers beyond Int64.
    public var wholeNumber: Int64? {
        switch self {
        case .int(let value): return value
        case .number(let text): return ScaledDecimal(text)?.integerValue
        default: return nil
        }
    }
}
