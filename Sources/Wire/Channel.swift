/// The kinds of message a subscriber can ask for.
public enum Channel: String, Sendable, CaseIterable {
    case fills, positions, pnl, marks, risk, status, orders

    /// One bit per channel (`SubscriptionFilter` keeps its channels as a mask).
    var bit: UInt8 {
        switch self {
        case .fills: 1
        case .positions: 2
        case .pnl: 4
        case .marks: 8
        case .risk: 16
        case .status: 32
        case .orders: 64
        }
    }
}
