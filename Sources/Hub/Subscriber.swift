import Bytes
import Wire

/// One `/ws` client as the hub sees it. Loop thread only.
public final class Subscriber {
    public enum Phase: Sendable { case awaitingSnapshot, live }

    public let id: UInt64
    /// Where this subscriber's frames go (a socket in the server, a recorder in tests).
    public let sink: any FrameSink
    public let format: WireFormat
    /// permessage-deflate for this subscriber (nil: frames go uncompressed).
    public let deflate: FrameDeflate?
    /// Changed through `Hub.update(_:filter:)`, which keeps the groups right.
    public internal(set) var filter: SubscriptionFilter
    /// Subscribers with the same filter, format and deflate share one encoded batch (see `Hub.publish`).
    var groupID = 0
    public internal(set) var phase: Phase = .awaitingSnapshot
    /// The highest seq this subscriber has been given (by snapshot, resume or delta).
    public var lastSeq: Int64 = 0
    public var lastSendTime = Monotonic.now()

    public init(id: UInt64, sink: any FrameSink, format: WireFormat, filter: SubscriptionFilter, deflate: FrameDeflate? = nil) {
        self.id = id
        self.sink = sink
        self.format = format
        self.deflate = deflate
        self.filter = filter
    }
}
