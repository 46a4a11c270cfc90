import Foundation
import JSON
import Journal
import Ledger
import Testing
import Wire
@testable import Ingest

/// Orders through the single writer: translation, idempotency by (orderId, version), scope,
/// the journal, the snapshot, resumes and recovery.
@Suite struct OrderPipelineTests {
    static let new = #"{"type":"order","action":"new","orderId":"O1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":5,"price":"110-08"}"#
    static let replace = #"{"type":"order","action":"replace","orderId":"O1","version":2,"qty":3,"price":"110-08.5"}"#
    static let partial = #"{"type":"fill","execId":"F1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":1,"price":"110-08.5","orderId":"O1"}"#
    static let cancel = #"{"type":"order","action":"cancel","orderId":"O1","version":3}"#

    @Test func anOrdersLifeIsAcknowledgedPublishedAndInTheSnapshot() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        #expect(harness.submit(json: [Self.new, Self.replace, Self.partial]) == [.ack(seq: 1), .ack(seq: 2), .ack(seq: 3)])
        let orders = try #require(harness.snapshot()["orders"]?.items)
        #expect(orders.count == 1)
        #expect(orders[0]["orderId"] == .string("O1") && orders[0]["price"] == .string("110'085"))
        #expect(orders[0]["qty"] == .int(3) && orders[0]["leavesQty"] == .int(2) && orders[0]["status"] == .string("working"))
        // The fill's event published the fill, then the order it reduced.
        let third = try #require(harness.published.withLock { $0.first { $0.seq == 3 } })
        let types = third.messages.map { (try? JSONValue.parse(String(decoding: $0.jsonBytes, as: UTF8.self)))?["type"]?.stringValue ?? "?" }
        #expect(types.prefix(2) == ["fill", "order"])
        #expect(harness.submit(json: [Self.cancel]) == [.ack(seq: 4)])
        #expect(harness.snapshot()["orders"]?.arrayCount == 0)
    }

    @Test func aResentOrderVersionIsADuplicateOfItsFirstSeq() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [Self.new, Self.replace])
        // A resent new (version 1 implied) and a resent replace (version 2) store nothing.
        #expect(harness.submit(json: [Self.new, Self.replace]) == [.duplicate(seq: 1), .duplicate(seq: 2)])
        #expect(harness.journal.lastSeq == 2)
        // Within one batch too.
        let cancelTwice = harness.submit(json: [Self.cancel, Self.cancel])
        #expect(cancelTwice == [.ack(seq: 3), .duplicate(seq: 3)])
        // A version already stored is a duplicate whatever its content.
        let stale = harness.submit(json: [#"{"type":"order","action":"replace","orderId":"O1","version":2,"qty":9}"#])
        #expect(stale == [.duplicate(seq: 2)])
        let missing = harness.submit(json: [#"{"type":"order","action":"new","orderId":"O2","version":5,"account":"A","instrument":"ZNZ6","side":"sell","qty":1,"price":"110-08"}"#,
                                            #"{"type":"order","action":"cancel","orderId":"O2","version":4}"#])
        #expect(missing.map(\.code) == ["ack", "order_version_stale"])
    }

    @Test func orderErrorsAreTypedAndStoreNothing() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        let results = harness.submit(json: [
            #"{"type":"order","action":"new","orderId":"O1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":5,"price":"110-08.25"}"#,
            #"{"type":"order","action":"cancel","orderId":"NOPE"}"#,
            #"{"type":"order","action":"replace","orderId":"NOPE","price":"110-08"}"#,
            #"{"type":"order","action":"amend","orderId":"O1"}"#,
            #"{"type":"order","action":"new","orderId":"O1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":5}"#,
        ])
        #expect(results.map(\.code) == ["price_off_grid", "unknown_order", "unknown_order", "invalid_field", "missing_field"])
        #expect(harness.journal.lastSeq == 0)
    }

    @Test func aScopedProducerMayOnlyTouchItsAccountsOrders() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [Self.new])
        let theirs = try ProducerMessage.parse(json: Self.cancel)
        let mine = try ProducerMessage.parse(json: #"{"type":"order","action":"new","orderId":"B1","account":"B","instrument":"ZNZ6","side":"sell","qty":1,"price":"110-10"}"#)
        let other = try ProducerMessage.parse(json: #"{"type":"order","action":"new","orderId":"B2","account":"ACC1","instrument":"ZNZ6","side":"sell","qty":1,"price":"110-10"}"#)
        let results = harness.submit([.scoped(theirs, accounts: ["B"]), .scoped(mine, accounts: ["B"]), .scoped(other, accounts: ["B"])])
        #expect(results.map(\.code) == ["unauthorized_account", "ack", "unauthorized_account"])
        #expect(harness.read { $0.ledger.order("O1")?.status } == .working)
    }

    @Test func anAtomicRequestMayPlaceAndFillItsOwnOrderOrNothing() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        let bad = #"{"type":"order","action":"cancel","orderId":"O1","version":2}"#
        // The cancel after a full fill is refused, so nothing of the request is stored.
        let full = #"{"type":"fill","execId":"F1","account":"ACC1","instrument":"ZNZ6","side":"buy","qty":5,"price":"110-08","orderId":"O1"}"#
        let refused = harness.submit(json: [Self.new, full, bad], atomic: true)
        #expect(refused.map(\.code) == ["not_applied", "not_applied", "order_not_working"])
        #expect(harness.journal.lastSeq == 0)
        let accepted = harness.submit(json: [Self.new, Self.replace, Self.partial], atomic: true)
        #expect(accepted == [.ack(seq: 1), .ack(seq: 2), .ack(seq: 3)])
        #expect(harness.read { $0.ledger.order("O1")?.leavesQty } == 2)
    }

    @Test func recoveryRebuildsTheOrderBookWithAndWithoutCheckpoints() throws {
        for checkpointEvery in [1_000_000, 2] {
            let harness = try PipelineHarness(checkpointEvery: checkpointEvery)
            _ = harness.submit(json: [Self.new, Self.replace, Self.partial])
            _ = harness.submit(json: [#"{"type":"order","action":"new","orderId":"O2","account":"ACC2","instrument":"ZBZ6","side":"sell","qty":4,"price":"118-01"}"#])
            _ = harness.submit(json: [#"{"type":"mark","instrument":"ZNZ6","price":"110-08"}"#])
            let live = harness.snapshot()["orders"]!.serialized
            harness.close()
            try harness.open(checkpointEvery: checkpointEvery)
            #expect(harness.snapshot()["orders"]!.serialized == live)
            if checkpointEvery == 2 { #expect(try harness.journal.latestCheckpoint() != nil) }
            // Versions are still known after the restart.
            #expect(harness.submit(json: [Self.replace]) == [.duplicate(seq: 2)])
            harness.close()
        }
    }

    @Test func aResumeReplaysOrderDeltasByteForByte() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [Self.new, Self.replace, Self.partial, Self.cancel])
        let published = harness.published.withLock { $0 }
        let epoch = harness.pipeline.epoch
        let plan = harness.read { $0.resume(since: 0, epoch: epoch, filter: SubscriptionFilter(channels: [.orders]), format: .json) }
        guard case .replay(let frames, _, _) = plan else { Issue.record("no replay"); return }
        let expected = published.flatMap { $0.messages.filter { $0.channel == .orders }.map(\.jsonFrame.bytes) }
        #expect(expected.count == 4)
        #expect(frames.dropFirst().map(\.bytes) == expected)
    }
}

extension JSONValue {
    var items: [JSONValue]? { if case .array(let items) = self { return items }; return nil }
}
