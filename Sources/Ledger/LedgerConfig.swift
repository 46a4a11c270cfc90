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

    public init(method: CostMethod? = nil, lossLimit: Money? = nil) {
        self.method = method
        self.lossLimit = lossLimit
    }
}

/// Cost methods and loss limits per account (read from `accounts.json` by ConfigFiles.AccountsFile).
public struct LedgerConfig: Sendable, Equatable {
    public var defaultMethod: CostMethod
    public var defaultLossLimit: Money?
    public var accounts: [String: AccountConfig]

    public init(defaultMethod: CostMethod = .lifo, defaultLossLimit: Money? = nil, accounts: [String: AccountConfig] = [:]) {
        self.defaultMethod = defaultMethod
        self.defaultLossLimit = defaultLossLimit
        self.accounts = accounts
    }

    public func method(for account: String) -> CostMethod {
        accounts[account]?.method ?? defaultMethod
    }

    public func lossLimit(for account: String) -> Money? {
        accounts[account]?.lossLimit ?? defaultLossLimit
    }
}
