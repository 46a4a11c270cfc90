/// What an edge asks of a stream engine: where the stream starts and ends, pages of entries
/// from its window, and the live tail after a seq. Redis Streams today (`RedisStreamFollower`);
/// NATS JetStream would map the bounds to the stream's first/last sequence, pages to an
/// ordered consumer with a start sequence, and the tail to the same consumer kept open.
///
/// Loop-confined.
public protocol StreamFollower: AnyObject {
    var delegate: (any StreamFollowerDelegate)? { get set }
    func start()
    func stop()
    /// The first and last entries (nil for an empty stream).
    func bounds(_ then: @escaping (Result<(first: StreamEntry?, last: StreamEntry?), StreamReadError>) -> Void)
    /// Up to `count` entries with after < seq ≤ upTo, oldest first.
    func range(after: Int64, upTo: Int64, count: Int, _ then: @escaping (Result<[StreamEntry], StreamReadError>) -> Void)
    /// Delivers entries after `seq` to the delegate as they arrive, until `stopFollowing`.
    func follow(after seq: Int64)
    func stopFollowing()
    /// Whether the core said it is alive within the last few seconds (its heartbeat key).
    var coreAlive: Bool? { get }
}

public protocol StreamFollowerDelegate: AnyObject {
    /// New entries, in stream order (not yet checked against what the edge holds).
    func follower(_ follower: any StreamFollower, received entries: [StreamEntry])
    /// The engine sent something that is not an entry of ours.
    func follower(_ follower: any StreamFollower, refused reason: String)
    /// The connection to the engine came up (true) or went down (false, with the reason).
    func follower(_ follower: any StreamFollower, connected: Bool, reason: String?)
    /// The core's heartbeat appeared or vanished.
    func follower(_ follower: any StreamFollower, coreAlive: Bool)
}

public enum StreamReadError: Error, Sendable, Equatable, CustomStringConvertible {
    case down(String)
    case refused(String)
    public var description: String {
        switch self {
        case .down(let reason): return "stream engine down: \(reason)"
        case .refused(let reason): return reason
        }
    }
}
