import Ledger

/// Health of one background monitor, shown in `/healthz`, `/metrics` and `status` messages.
public struct MonitorStatus: Sendable, Equatable {
    public enum State: String, Sendable { case starting, running, degraded, stopped }
    public var name: String
    public var state: State
    public var lastError: String?
    /// Nanoseconds since the Unix epoch of the last successful poll or message.
    public var lastSuccess: Int64?
    /// A reconciliation monitor's latest comparison, one line per account × instrument.
    public var recon: [ReconLine]?
    public init(name: String, state: State, lastError: String? = nil, lastSuccess: Int64? = nil, recon: [ReconLine]? = nil) {
        self.name = name; self.state = state; self.lastError = lastError; self.lastSuccess = lastSuccess
        self.recon = recon
    }
}

/// One account × instrument compared between the ledger and an outside system (TT).
public struct ReconLine: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Net, bought, sold and SOD are equal on both sides.
        case match
        /// They differ (both sides and the net difference are given).
        case `break`
        /// The last comparison could not be refreshed (the outside system is unreachable).
        case stale
    }

    /// Quantities of one side: net, bought and sold today, SOD (all signed contracts).
    public struct Side: Sendable, Equatable {
        public var net: Int64
        public var bought: Int64
        public var sold: Int64
        public var sod: Int64
        public init(net: Int64, bought: Int64, sold: Int64, sod: Int64) {
            self.net = net; self.bought = bought; self.sold = sold; self.sod = sod
        }
    }

    public var account: String
    public var instrument: String
    public var state: State
    public var ledger: Side
    public var external: Side
    /// Ledger net − external net.
    public var difference: Int64 { ledger.net - external.net }

    public init(account: String, instrument: String, state: State, ledger: Side, external: Side) {
        self.account = account; self.instrument = instrument; self.state = state
        self.ledger = ledger; self.external = external
    }
}

/// What a reconciliation monitor compares against: the ledger's positions as committed.
/// Implemented by the ingest pipeline (a read between commits).
public protocol PositionReader: Sendable {
    func committedPositions() -> [PositionLine]
}

public protocol MonitorStatusSink: Sendable {
    func report(_ status: MonitorStatus)
}
