import Bytes

/// Where the hub writes one subscriber's frames. The hub never touches a socket: the server
/// adapts a reactor connection to this, and the hub's tests record what each subscriber got.
/// Called on the hub's thread only (the loop thread in the server).
public protocol FrameSink: AnyObject {
    /// Queues one complete frame (or a concatenation of frames) for the subscriber.
    func send(_ frame: SharedBuffer)
}
