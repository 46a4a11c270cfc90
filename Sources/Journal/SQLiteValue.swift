/// A value bound to a statement parameter. SQLite's REAL is deliberately absent: nothing in
/// Ladderwire stores binary floating point.
public enum SQLiteValue: Sendable, Equatable {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null
}

extension SQLiteValue {
    public init(_ value: Int64?) { self = value.map(SQLiteValue.integer) ?? .null }
    public init(_ value: String?) { self = value.map(SQLiteValue.text) ?? .null }
    public init(_ value: [UInt8]?) { self = value.map(SQLiteValue.blob) ?? .null }
}
