/// How a closing fill is matched against open lots.
public enum CostMethod: String, Sendable, CaseIterable {
    /// Newest open lot first (the desk's default view).
    case lifo
    /// Oldest open lot first (how CME clearing matches).
    case fifo
    /// Against the running average: total cost is kept exactly, the removed share is rounded.
    case average
}

/// Per-account settings; absent fields use the defaults.
public struct AccountConfig: Sendable, Equatable {
    public var method: CostMethod?
    /// Loss limit in dollars (positive): warning at 80 % used, breached at 100 %.
    public var lossLimit: Money?
    /// Position limit in gross contracts (Σ |net| over instruments): warning at 80 %, breached at 100 %.
    public var positionLimit: Int64?

    public init(method: CostMethod? = nil, lossLimit: Money? = nil, positionLimit: Int64? = nil) {
        self.method = method
        self.lossLimit = lossLimit
        self.positionLimit = positionLimit
    }
}

/// Cost methods, loss and position limits per account, and the desk's loss limit (read from
/// `accounts.json` by ConfigFiles.AccountsFile).
public struct LedgerConfig: Sendable, Equatable {
    public var defaultMethod: CostMethod
    public var defaultLossLimit: Money?
    public var accounts: [String: AccountConfig]
    /// Gross contracts per account, unless the account sets its own.
    public var defaultPositionLimit: Int64?
    /// The whole desk's loss limit (the loss of the desk total), nil for none.
    public var deskLossLimit: Money?

    public init(defaultMethod: CostMethod = .lifo, defaultLossLimit: Money? = nil, accounts: [String: AccountConfig] = [:],
                defaultPositionLimit: Int64? = nil, deskLossLimit: Money? = nil) {
        self.defaultMethod = defaultMethod
        self.defaultLossLimit = defaultLossLimit
        self.accounts = accounts
        self.defaultPositionLimit = defaultPositionLimit
        self.deskLossLimit = deskLossLimit
    }

    public func positionLimit(for account: String) -> Int64? {
        accounts[account]?.positionLimit ?? defaultPositionLimit
    }

    public func method(for account: String) -> CostMethod {
        accounts[account]?.method ?? defaultMethod
    }

    public func lossLimit(for account: String) -> Money? {
        accounts[account]?.lossLimit ?? defaultLossLimit
    }
}
