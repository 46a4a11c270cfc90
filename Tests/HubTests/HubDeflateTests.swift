import Bytes
import Testing
import WebSocketCore
import Wire
@testable import Hub

/// Fan-out with permessage-deflate: a batch is compressed once per (filter, format, deflate)
/// group — in fact once per message — and every member gets the same bytes.
@Suite struct HubDeflateTests {
    /// The data messages in a buffer of server frames, inflated when RSV1 is set.
    static func inflatedMessages(_ buffer: SharedBuffer) throws -> [(compressed: Bool, text: String)] {
        let bytes = buffer.bytes
        var index = 0
        var out: [(Bool, String)] = []
        while index < bytes.count {
            let short = Int(bytes[index + 1] & 0x7F)
            var header = 2, length = short
            if short == 126 { header = 4; length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3]) }
            var payload = Array(bytes[(index + header)..<(index + header + length)])
            let compressed = bytes[index] & 0x40 != 0
            if compressed {
                let inflater = try #require(RawInflater())
                var plain: [UInt8] = []
                try inflater.inflate((payload + [0, 0, 0xFF, 0xFF])[...], into: &plain, limit: 1 << 20)
                payload = plain
            }
            out.append((compressed, String(decoding: payload, as: UTF8.self)))
            index += header + length
        }
        return out
    }

    @Test func membersWithTheSameDeflateShareOneCompressedBuffer() throws {
        let deflater = MessageDeflater()
        let hub = Hub(deflater: deflater)
        let on = FrameDeflate(windowBits: 15, minimumBytes: 0)
        let a = RecordingSink(), b = RecordingSink(), plain = RecordingSink(), narrow = RecordingSink()
        hub.add(Subscriber(id: 1, sink: a, format: .json, filter: SubscriptionFilter(), deflate: on))
        hub.add(Subscriber(id: 2, sink: b, format: .json, filter: SubscriptionFilter(), deflate: on))
        hub.add(Subscriber(id: 3, sink: plain, format: .json, filter: SubscriptionFilter()))
        hub.add(Subscriber(id: 4, sink: narrow, format: .json, filter: SubscriptionFilter(),
                           deflate: FrameDeflate(windowBits: 9, minimumBytes: 0)))
        #expect(hub.groupCount == 3)
        for id: UInt64 in 1...4 { hub.deliverSnapshot(to: id, seq: 0, frame: HubFixtures.snapshotFrame(seq: 0)) }
        hub.publish([HubFixtures.event(1, accounts: ["ACC1", "ACC2"]), HubFixtures.event(2, accounts: ["ACC1"])])
        #expect(a.buffers[1] === b.buffers[1])
        #expect(a.buffers[1] !== narrow.buffers[1])
        // Compressed once per message: the deflater saw each message once per window size.
        let plainMessages = try Self.inflatedMessages(plain.buffers[1])
        #expect(plainMessages.allSatisfy { !$0.compressed })
        for sink in [a, narrow] {
            let messages = try Self.inflatedMessages(sink.buffers[1])
            #expect(messages.allSatisfy { $0.compressed })
            #expect(messages.map(\.text) == plainMessages.map(\.text))
            // The snapshot (built for one subscriber) is compressed too.
            let snapshot = try Self.inflatedMessages(sink.buffers[0])
            #expect(snapshot.allSatisfy { $0.compressed })
        }
        let payloadBytes = plainMessages.reduce(0) { $0 + $1.text.utf8.count }
        let snapshotBytes = try Self.inflatedMessages(plain.buffers[0]).reduce(0) { $0 + $1.text.utf8.count }
        // Each delta compressed once per window size (15 for a and b together, 9 for narrow);
        // the snapshot, built per subscriber, once per subscriber.
        #expect(deflater.bytesIn == 2 * payloadBytes + 3 * snapshotBytes)
    }
}
