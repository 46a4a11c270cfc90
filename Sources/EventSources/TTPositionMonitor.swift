import Bytes
import JSON
import Ledger
import Synchronization
import Wire

/// Position reconciliation with TT (`ttrecon` source): every `pollSeconds`, `GET
/// /ttmonitor/{env}/position` and compare each account × instrument with the ledger as committed
/// (net, bought and sold today, SOD). The result is the monitor's status: `recon` lines `match`,
/// `break` (both sides and the net difference) or, while TT cannot be reached, the last lines
/// marked `stale` — on `/healthz`, `/metrics`, the text mode's status lines and the page.
///
/// It submits nothing (it has no cursor): it reads the ledger through `PositionReader` (the
/// ingest pipeline) and only reports. Same token manager, rate limit and backoff as the fill
/// poller. Lines are compared for the accounts TT reports (mapped through `accounts`), so a
/// ledger position TT does not have is a break with TT at 0.
public final class TTPositionMonitor: Monitor {
    public let name: String
    private let config: TTConfig
    private let transport: any OutboundHTTP
    private let clock: any MonitorClock
    private let catalogSymbols: [String: String]
    private let rateLimit: TokenBucket
    public let tokens: TTTokenManager
    private let jitter: Mutex<SeededRandom>
    private let positions: (any PositionReader)?

    /// `positions` is the ledger to compare with; without one, the sink is used if it can read
    /// positions (the ingest pipeline can).
    public init(config: TTConfig, name: String = "ttrecon", transport: any OutboundHTTP = URLSessionTransport(),
                clock: any MonitorClock = SystemClock(), catalogSymbols: [String: String] = [:],
                rateLimit: TokenBucket? = nil, tokens: TTTokenManager? = nil, positions: (any PositionReader)? = nil,
                jitterSeed: UInt64 = UInt64.random(in: 0...UInt64.max)) {
        self.name = name
        self.config = config
        self.transport = transport
        self.clock = clock
        self.catalogSymbols = catalogSymbols
        let bucket = rateLimit ?? TokenBucket(ratePerSecond: config.requestsPerSecond, burst: 1, clock: clock)
        self.rateLimit = bucket
        self.tokens = tokens ?? TTTokenManager(config: config, transport: transport, clock: clock, rateLimit: bucket)
        self.positions = positions
        self.jitter = Mutex(SeededRandom(seed: jitterSeed))
    }

    public func run(sink: any MessageSink, status: any MonitorStatusSink, stopping: StopSignal) throws {
        guard let reader = positions ?? (sink as? any PositionReader) else {
            throw TTError.notConfigured("the reconciliation monitor has no ledger to compare with")
        }
        var last: [ReconLine]?
        try runTTPollLoop(config: config, clock: clock, jitter: jitter, status: status, stopping: stopping, poll: { () throws(TTError) in
            var lines = try reconcile(ledger: reader, stopping: stopping)
            if config.seedSOD, try seed(lines, ledger: reader, sink: sink) {
                lines = try reconcile(ledger: reader, stopping: stopping)
            }
            last = lines
            let breaks = lines.filter { $0.state == .break }
            let problem = breaks.first.map { "\(breaks.count) break(s), first \($0.account)/\($0.instrument): ledger \($0.ledger.net), TT \($0.external.net)" }
            return MonitorStatus(name: name, state: .running, lastError: problem, recon: lines)
        }, degraded: { error, lastSuccess in
            // The last comparison stays on screen, marked stale, until TT answers again.
            let stale = last.map { $0.map { line in var line = line; line.state = .stale; return line } }
            return MonitorStatus(name: name, state: .degraded, lastError: error.description, lastSuccess: lastSuccess, recon: stale)
        })
    }

    /// One comparison: TT's positions now against the ledger's, sorted by (account, instrument).
    public func reconcile(ledger: any PositionReader, stopping: StopSignal) throws(TTError) -> [ReconLine] {
        let reply = try tokens.authorizedGet("ttmonitor/\(config.environment)/position", what: "position", transport: transport,
                                             rateLimit: rateLimit, stopping: stopping)
        guard (200..<300).contains(reply.status) else {
            throw .status(code: reply.status, retryAfterSeconds: retryAfter(reply), detail: String(reply.body.prefix(200)))
        }
        let external = try TTPositionMapping.positions(from: reply.body, config: config, catalogSymbols: catalogSymbols)
        let accounts = Set(external.keys.map(\.account)).union(config.accounts.values)
        var ours: [Key: ReconLine.Side] = [:]
        for line in ledger.committedPositions() where accounts.contains(line.account) {
            ours[Key(account: line.account, instrument: line.instrument)] =
                ReconLine.Side(net: line.net, bought: line.bought, sold: line.sold, sod: line.sodQty)
        }
        let flat = ReconLine.Side(net: 0, bought: 0, sold: 0, sod: 0)
        return Set(ours.keys).union(external.keys).sorted { ($0.account, $0.instrument) < ($1.account, $1.instrument) }
            .compactMap { key in
                let mine = ours[key] ?? flat, theirs = external[key] ?? flat
                // Nothing on either side today: not worth a line.
                if mine == flat && theirs == flat { return nil }
                return ReconLine(account: key.account, instrument: key.instrument, state: mine == theirs ? .match : .break,
                                 ledger: mine, external: theirs)
            }
    }

    /// Sends the SOD seeds of `lines`, if any; true when it sent some (compare again).
    private func seed(_ lines: [ReconLine], ledger: any PositionReader, sink: any MessageSink) throws(TTError) -> Bool {
        let seeds = sodSeeds(lines, positions: ledger.committedPositions())
        guard !seeds.isEmpty else { return false }
        let results: [SubmitResult]
        do { results = try submitAndWait(seeds, to: sink, source: name, cursor: nil, timeoutSeconds: 30) } catch {
            throw .network(error.description)
        }
        if let failure = results.storageFailure { throw .storage(failure) }
        return true
    }

    /// TT's start of day for books that have not traded yet today on either side and whose SOD
    /// differs: `sod` messages at the ledger's SOD price (else its mark). A book that traded keeps
    /// its break for a person to look at.
    public func sodSeeds(_ lines: [ReconLine], positions: [PositionLine]) -> [ProducerMessage] {
        lines.compactMap { line in
            guard line.state == .break, line.ledger.sod != line.external.sod,
                  line.ledger.bought == 0, line.ledger.sold == 0, line.external.bought == 0, line.external.sold == 0,
                  let position = positions.first(where: { $0.account == line.account && $0.instrument == line.instrument }),
                  let price = position.sodPrice ?? position.mark else { return nil }
            return .sod(account: line.account, instrument: line.instrument, qty: line.external.sod, price: price.decimalString)
        }
    }

    struct Key: Hashable {
        var account: String
        var instrument: String
    }
}

enum TTPositionMapping {
    /// `{"positions":[{accountId, instrumentId, buyFillQty, sellFillQty, sodNetPos, netPosition, …}]}`
    /// (or a bare array), summed per mapped account × instrument.
    static func positions(from body: String, config: TTConfig,
                          catalogSymbols: [String: String]) throws(TTError) -> [TTPositionMonitor.Key: ReconLine.Side] {
        let json: JSONValue
        do { json = try JSONValue.parse(body) } catch { throw .malformedReply("position reply: \(error.message) at byte \(error.offset)") }
        let items: [JSONValue]
        if case .array(let list) = json { items = list }
        else if case .array(let list)? = json["positions"] { items = list }
        else { throw .malformedReply("position reply has no 'positions' array") }
        var out: [TTPositionMonitor.Key: ReconLine.Side] = [:]
        for item in items {
            guard let accountId = TTFillMapping.text(item["accountId"]), let instrumentId = TTFillMapping.text(item["instrumentId"]),
                  let net = TTFillMapping.integer(item["netPosition"]) else {
                throw .malformedReply("a position without accountId, instrumentId or netPosition")
            }
            let key = TTPositionMonitor.Key(account: config.accounts[accountId] ?? accountId,
                                            instrument: config.instruments[instrumentId]?.symbol ?? catalogSymbols[instrumentId] ?? instrumentId)
            var side = out[key] ?? ReconLine.Side(net: 0, bought: 0, sold: 0, sod: 0)
            side.net += net
            side.bought += TTFillMapping.integer(item["buyFillQty"]) ?? 0
            side.sold += TTFillMapping.integer(item["sellFillQty"]) ?? 0
            side.sod += TTFillMapping.integer(item["sodNetPos"]) ?? 0
            out[key] = side
        }
        return out
    }
}
