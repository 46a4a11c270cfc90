import Bytes
import RESP
import Reactor

/// Follows a Redis Stream for an edge: `XRANGE`/`XREVRANGE` for the bounds and the window,
/// `XREAD BLOCK` for the tail (one outstanding read; the next is sent when it answers, from the
/// last ID delivered), and a `GET` of the core's heartbeat key once a second.
///
/// Loop-confined.
public final class RedisStreamFollower: StreamFollower {
    public let endpoint: RedisEndpoint
    public weak var delegate: (any StreamFollowerDelegate)?
    private let link: RedisLink
    private let loop: EventLoop
    private var following: Int64?
    private var reading = false
    private var generation = 0
    public private(set) var coreAlive: Bool?
    private var lastHeartbeatCheck = Monotonic(nanoseconds: 0)
    /// Milliseconds an `XREAD` waits for new entries before it answers empty.
    public var blockMilliseconds = 1_000
    public var pageSize = 500

    public init(endpoint: RedisEndpoint, loop: EventLoop, log: @escaping (String) -> Void) {
        self.endpoint = endpoint
        self.loop = loop
        link = RedisLink(endpoint: endpoint, loop: loop, log: log)
        link.onStateChange = { [unowned self] state in
            generation += 1
            reading = false
            switch state {
            case .ready: delegate?.follower(self, connected: true, reason: nil)
            case .down(let reason): delegate?.follower(self, connected: false, reason: reason)
            case .connecting: break
            }
        }
    }

    public var isConnected: Bool { link.state == .ready }
    public var linkState: RedisLink.State { link.state }

    public func start() {
        link.start()
        scheduleHeartbeatCheck()
    }

    public func stop() { link.stop() }

    public func bounds(_ then: @escaping (Result<(first: StreamEntry?, last: StreamEntry?), StreamReadError>) -> Void) {
        var first: StreamEntry?
        var failure: StreamReadError?
        link.send(RESPCommand(["XRANGE", endpoint.key, "-", "+", "COUNT", "1"])) { result in
            switch Self.entries(result, range: true) {
            case .success(let entries): first = entries.first
            case .failure(let error): failure = error
            }
        }
        link.send(RESPCommand(["XREVRANGE", endpoint.key, "+", "-", "COUNT", "1"])) { result in
            if let failure { then(.failure(failure)); return }
            switch Self.entries(result, range: true) {
            case .success(let entries): then(.success((first, entries.first)))
            case .failure(let error): then(.failure(error))
            }
        }
    }

    public func range(after: Int64, upTo: Int64, count: Int, _ then: @escaping (Result<[StreamEntry], StreamReadError>) -> Void) {
        link.send(RESPCommand(["XRANGE", endpoint.key, "(\(after)-0", "\(upTo)-0", "COUNT", String(count)])) { result in
            then(Self.entries(result, range: true))
        }
    }

    public func follow(after seq: Int64) {
        following = seq
        readNext()
    }

    public func stopFollowing() {
        following = nil
        generation += 1
        reading = false
    }

    private func readNext() {
        guard let after = following, !reading, link.state == .ready else { return }
        reading = true
        let current = generation
        let command = RESPCommand(["XREAD", "COUNT", String(pageSize), "BLOCK", String(blockMilliseconds),
                                   "STREAMS", endpoint.key, "\(after)-0"])
        link.send(command, blocksFor: Double(blockMilliseconds) / 1000) { [weak self] result in
            guard let self, current == generation else { return }
            reading = false
            switch Self.entries(result, range: false) {
            case .failure(.down):
                return   // the link reconnects; the edge follows again when told it is up
            case .failure(.refused(let reason)):
                following = nil
                delegate?.follower(self, refused: reason)
            case .success(let entries):
                if let last = entries.last, following != nil { following = last.seq }
                if !entries.isEmpty { delegate?.follower(self, received: entries) }
                readNext()
            }
        }
    }

    private static func entries(_ result: Result<RESPValue, RedisLink.Failure>, range: Bool) -> Result<[StreamEntry], StreamReadError> {
        switch result {
        case .failure(.down(let reason)): return .failure(.down(reason))
        case .success(.error(let message)): return .failure(.refused("Redis refused the read: \(message)"))
        case .success(let reply):
            do {
                return .success(range ? try StreamEntry.entries(fromRange: reply) : try StreamEntry.entries(fromRead: reply))
            } catch {
                return .failure(.refused("malformed stream entry: \(error)"))
            }
        }
    }

    // MARK: The core's heartbeat

    /// The key the core refreshes every second with a 3-second expiry while it publishes.
    public static func heartbeatKey(_ endpoint: RedisEndpoint) -> String { "\(endpoint.key):core" }

    private func scheduleHeartbeatCheck() {
        loop.schedule(after: 1) { [weak self] in
            guard let self else { return }
            checkHeartbeat()
            scheduleHeartbeatCheck()
        }
    }

    private func checkHeartbeat() {
        guard link.state == .ready else { return }
        link.send(RESPCommand(["GET", Self.heartbeatKey(endpoint)])) { [weak self] result in
            guard let self, case .success(let reply) = result else { return }
            let alive = !reply.isNull
            if alive != coreAlive {
                coreAlive = alive
                delegate?.follower(self, coreAlive: alive)
            }
        }
    }
}
