import JSON

/// What one subscriber wants (and may) see.
///
/// `accounts`/`instruments` nil means "all"; `allowedAccounts` is the token's scope, which a
/// subscribe message can narrow but never widen.
public struct SubscriptionFilter: Sendable, Hashable {
    public var accounts: Set<String>?
    public var instruments: Set<String>?
    public var channels: Set<Channel> { didSet { channelBits = Self.bits(of: channels) } }
    public var allowedAccounts: Set<String>?
    /// `channels` as one bit per channel: the fan-out asks about every message of every batch,
    /// and a `Set` lookup hashes the channel each time (~350 instructions per message).
    private var channelBits: UInt8

    public init(accounts: Set<String>? = nil, instruments: Set<String>? = nil,
                channels: Set<Channel> = Set(Channel.allCases), allowedAccounts: Set<String>? = nil) {
        self.accounts = accounts; self.instruments = instruments
        self.channels = channels; self.allowedAccounts = allowedAccounts
        channelBits = Self.bits(of: channels)
    }

    private static func bits(of channels: Set<Channel>) -> UInt8 {
        channels.reduce(0) { $0 | $1.bit }
    }

    /// True when every message passes: the fan-out skips per-message checks.
    public var passesEverything: Bool {
        accounts == nil && instruments == nil && allowedAccounts == nil && channels.count == Channel.allCases.count
    }

    public func matches(channel: Channel, account: String?, instrument: String?) -> Bool {
        guard channelBits & channel.bit != 0 else { return false }
        if let account {
            if let allowed = allowedAccounts, !allowed.contains(account) { return false }
            if let wanted = accounts, !wanted.contains(account) { return false }
        } else if allowedAccounts != nil && (channel == .pnl || channel == .risk) {
            // Desk-wide totals aggregate accounts outside a scoped viewer's reach.
            return false
        }
        if let instrument, let wanted = instruments, !wanted.contains(instrument) { return false }
        return true
    }

    /// Accounts this filter lets through, or nil for all: used to build a filtered snapshot.
    public func permits(account: String) -> Bool {
        if let allowed = allowedAccounts, !allowed.contains(account) { return false }
        if let wanted = accounts, !wanted.contains(account) { return false }
        return true
    }

    public func permits(instrument: String) -> Bool {
        instruments.map { $0.contains(instrument) } ?? true
    }

    public var jsonValue: JSONValue {
        func list(_ set: Set<String>?) -> JSONValue {
            set.map { .array($0.sorted().map { .string($0) }) } ?? .null
        }
        return .object([
            ("accounts", list(accounts)),
            ("instruments", list(instruments)),
            ("channels", .array(Channel.allCases.filter { channels.contains($0) }.map { .string($0.rawValue) })),
        ])
    }
}
