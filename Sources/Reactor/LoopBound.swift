/// A loop-confined value (a session, an endpoint, the hub) carried through another thread and
/// back to its loop: the ingest thread answers a producer or delivers a snapshot by posting a
/// closure that opens the value on the loop.
///
/// This is the one place the project says "Sendable by hand" for loop-confined objects, and it
/// is checked: `value` traps when read off the loop's thread, so a wrong hop fails loudly in every
/// build instead of racing. Carrying the wrapper across threads is safe; only opening it is not.
public struct LoopBound<Value>: @unchecked Sendable {
    private let wrapped: Value
    private let loop: EventLoop

    public init(_ value: Value, on loop: EventLoop) {
        self.wrapped = value
        self.loop = loop
    }

    /// The value; on the loop's thread only.
    public var value: Value {
        precondition(loop.isLoopThread, "a loop-bound value was opened off its loop's thread")
        return wrapped
    }

    /// Runs `body` with the value on the loop (from any thread): the usual way back.
    public func post(_ body: @escaping @Sendable (Value) -> Void) {
        let bound = self
        loop.post { body(bound.value) }
    }
}
