/// Why a list of instruments cannot be a catalog; `description` names the symbol.
public enum CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case duplicateSymbol(String)
    case empty

    public var description: String {
        switch self {
        case .invalid(let reason): return "invalid instrument: \(reason)"
        case .duplicateSymbol(let symbol): return "instrument \(symbol) is defined twice"
        case .empty: return "no instruments configured"
        }
    }
}
