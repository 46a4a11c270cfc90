import Foundation

/// How a closing fill is matched against open lots.
public enum CostMethod: String, Sendable, Codable, CaseIterable {
    /// Newest open lot first (the desk's default view).
    case lifo
    /// Oldest open lot first (how CME clearing matches).
    case fifo
    /// Against the running average: total cost is kept exactly, the removed share is rounded.
    case average
}

/// Per-account settings; absent fields use the defaults.
public struct AccountConfig: Sendable, Codable, Equatable {
    public var method: CostMethod?
    /// Loss limit in dollars (positive): warning at 80 % used, breached at 100 %.
    public var lossLimit: Money?

    public init(method: CostMethod? = nil, lossLimit: Money? = nil) {
        self.method = method
        self.lossLimit = lossLimit
    }
}

/// `{"defaultMethod":"lifo","defaultLossLimit":"25000","accounts":{"ACC1":{"method":"fifo","lossLimit":5000}}}`
public struct LedgerConfig: Sendable, Codable, Equatable {
    public var defaultMethod: CostMethod
    public var defaultLossLimit: Money?
    public var accounts: [String: AccountConfig]

    public init(defaultMethod: CostMethod = .lifo, defaultLossLimit: Money? = nil, accounts: [String: AccountConfig] = [:]) {
        self.defaultMethod = defaultMethod
        self.defaultLossLimit = defaultLossLimit
        self.accounts = accounts
    }

    public init(json: Data) throws(ConfigError) {
        do { self = try JSONDecoder().decode(LedgerConfig.self, from: json) } catch {
            throw .invalid(InstrumentCatalog.describe(error))
        }
    }

    private enum Key: String, CodingKey { case defaultMethod, defaultLossLimit, accounts }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.defaultMethod = try c.decodeIfPresent(CostMethod.self, forKey: .defaultMethod) ?? .lifo
        self.defaultLossLimit = try c.decodeIfPresent(Money.self, forKey: .defaultLossLimit)
        self.accounts = try c.decodeIfPresent([String: AccountConfig].self, forKey: .accounts) ?? [:]
    }

    public func method(for account: String) -> CostMethod {
        accounts[account]?.method ?? defaultMethod
    }

    public func lossLimit(for account: String) -> Money? {
        accounts[account]?.lossLimit ?? defaultLossLimit
    }
}
