/// A credential (TT app key or secret). Its description is always masked, so printing a config,
/// an error or a status can never leak it; only `reveal()` gives the text, at the point of use.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String
    public init(_ value: String) { self.value = value }
    public func reveal() -> String { value }
    public var description: String { "****" }
    public var debugDescription: String { "****" }
}
