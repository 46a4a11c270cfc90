/// The kinds of message a subscriber can ask for.
public enum Channel: String, Sendable, CaseIterable {
    case fills, positions, pnl, marks, risk, status, orders
}
