/// Where sources hand their messages. Implemented by the ingest pipeline; monitors and tests use it.
public protocol MessageSink: Sendable {
    /// Validates, applies, commits, publishes; then calls `completion` with one result per message,
    /// in order, on an unspecified thread. `cursor` (name, value) is stored in the same transaction
    /// as the messages, so a poller's position never runs ahead of or behind what it ingested.
    func submit(_ messages: [ProducerMessage], source: String, cursor: (name: String, value: String)?,
                completion: @escaping @Sendable ([SubmitResult]) -> Void)
    /// The last stored value of a source cursor.
    func cursor(named name: String) -> String?
}
