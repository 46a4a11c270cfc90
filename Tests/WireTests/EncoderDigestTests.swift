import Bytes
import Foundation
import JSON
import Ledger
import Testing
@testable import Wire

/// The writer's output pinned byte for byte: every message of seeded random ledgers (hostile
/// account names included), their frames and a snapshot body, hashed. The expected digests were
/// recorded with the tree-free writer of `97d23e0`, before the writer was rewritten for speed, so
/// any byte the rewrite changes shows up here (the golden tests pin a few objects; this pins
/// thousands).
@Suite struct EncoderDigestTests {
    /// FNV-1a, 64 bits: enough to tell outputs apart, simple enough to trust.
    struct Digest {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        var byteCount = 0

        mutating func add(_ bytes: [UInt8]) {
            for byte in bytes {
                value ^= UInt64(byte)
                value &*= 0x0000_0100_0000_01B3
            }
            byteCount += bytes.count
            // A separator, so moving a byte from one message to the next changes the digest.
            value ^= 0xFF
            value &*= 0x0000_0100_0000_01B3
        }
    }

    /// Seed: digests of the messages' JSON, of their frames, of the snapshot body, and the JSON byte count.
    static let recorded: [UInt64: (json: UInt64, frames: UInt64, snapshot: UInt64, bytes: Int)] = [
        1: (16_416_262_785_841_533_861, 18_097_150_340_023_404_465, 11_444_482_807_114_045_839, 1_628_664),
        2: (9_908_112_199_119_997_241, 4_814_316_355_398_167_723, 10_486_946_791_419_645_080, 1_644_120),
        3: (2_493_088_775_106_326_852, 17_594_107_315_772_325_115, 11_962_496_828_350_021_583, 1_572_642),
        4: (12_514_477_071_276_986_374, 1_715_285_507_069_675_042, 1_156_443_269_371_856_920, 1_576_481),
    ]

    static func digests(seed: UInt64) throws -> (json: Digest, frames: Digest, snapshot: Digest) {
        let encoder = MessageEncoder(catalog: try WireSchemaTests.catalog())
        var ledger = Ledger(catalog: encoder.catalog, config: try WireSchemaTests.config())
        var random = SeededRandom(seed: seed)
        var json = Digest(), frames = Digest(), snapshot = Digest()
        for (index, event) in RandomEvents.generate(catalog: encoder.catalog, count: 1_500, random: &random).enumerated() {
            guard let deltas = try? ledger.apply(event) else { continue }
            for outbound in encoder.messages(for: deltas, seq: Int64(index + 1)) {
                json.add(outbound.jsonBytes)
                frames.add(outbound.jsonFrame.bytes)
            }
        }
        let recon = ReconLine(account: "ACC1", instrument: "ZNZ6", state: .break,
                              ledger: .init(net: 3, bought: 5, sold: 4, sod: 2), external: .init(net: 5, bought: 7, sold: 4, sod: -2))
        let monitors = [MonitorStatus(name: "tt", state: .degraded, lastError: "HTTP 500 \"x\"\n"),
                        MonitorStatus(name: "ttrecon", state: .running, lastError: nil, lastSuccess: 0, recon: [recon])]
        let body = Snapshot(seq: 99, epoch: "e\"1", resync: false, time: 1_795_530_600_123_456_789, positions: ledger.positions,
                            accounts: ledger.accounts, desk: ledger.desk, marks: ledger.marks,
                            fills: ledger.recentFills(limit: 200).map { ($0, nil) }, monitors: monitors, filter: SubscriptionFilter(),
                            orders: ledger.workingOrders)
        snapshot.add(encoder.json(body))
        return (json, frames, snapshot)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func everyMessageIsByteIdenticalToTheRecordedWriter(seed: UInt64) throws {
        let (json, frames, snapshot) = try Self.digests(seed: seed)
        let expected = try #require(Self.recorded[seed],
                                    "record: \(seed): (\(json.value), \(frames.value), \(snapshot.value), \(json.byteCount))")
        #expect(json.byteCount == expected.bytes)
        #expect(json.value == expected.json)
        #expect(frames.value == expected.frames)
        #expect(snapshot.value == expected.snapshot)
    }
}
