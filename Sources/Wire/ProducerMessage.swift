/// One message from a producer (`/feed`, `POST /api/fills`) or a background monitor, before
/// validation against the instrument catalog. Prices stay text until the ledger parses them
/// with the instrument's rules, so "110-08+" and "110'085" are judged by the same code.
public enum ProducerMessage: Sendable, Equatable {
    case fill(execId: String, account: String, instrument: String, side: String, qty: Int64, price: String, time: String?)
    case bust(execId: String)
    case correct(execId: String, qty: Int64?, price: String?)
    case mark(instrument: String, price: String, time: String?)
    case sod(account: String, instrument: String, qty: Int64, price: String)

    /// What a reply names: the execId, or the instrument for a mark, or the account/instrument for SOD.
    public var ref: String {
        switch self {
        case .fill(let execId, _, _, _, _, _, _), .bust(let execId), .correct(let execId, _, _): return execId
        case .mark(let instrument, _, _): return instrument
        case .sod(let account, let instrument, _, _): return "\(account)/\(instrument)"
        }
    }
}
