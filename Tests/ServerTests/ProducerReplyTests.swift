import JSON
import Testing
import Wire
@testable import Server

/// The producer's reply is written straight into bytes on the hot path; it must be exactly what
/// the `JSONValue` form (still used by `POST /api/fills`) serializes to.
@Suite struct ProducerReplyTests {
    static let results: [SubmitResult] = [
        .ack(seq: 1), .ack(seq: Int64.max), .duplicate(seq: 42),
        .rejected(code: "bad_price", message: "price \"110-16\\\" is off the tick grid\n(1/256)"),
        .rejected(code: "storage_error", message: "not stored: disk full é ✓"),
    ]
    static let refs: [String?] = [nil, "F1", "with \"quotes\" and \\ and \u{01}", "ünïcødé"]

    @Test func bytesMatchTheJSONValueSerializationForEveryResultAndRef() {
        for result in Self.results {
            for ref in Self.refs {
                let bytes = ProducerItems.replyBytes(result, ref: ref)
                #expect(String(decoding: bytes, as: UTF8.self) == ProducerItems.replyValue(result, ref: ref).serialized)
            }
        }
    }
}
