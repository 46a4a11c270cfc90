import Foundation
import JSON
import Ledger
import Testing
@testable import Wire

@Suite struct OutboundMessageTests {
    /// What the hub queues is the writer's JSON and the renderer's line, framed, routed by the
    /// message's own route.
    @Test func framesComeFromTheOneWriterAndTheOneRenderer() throws {
        let encoder = try TextRendererTests.encoder()
        var ledger = Ledger(catalog: encoder.catalog, config: LedgerConfig())
        let zn = try #require(encoder.catalog["ZNZ6"])
        var deltas: [LedgerDelta] = []
        deltas += try ledger.apply(.sod(account: "ACC1", instrument: "ZNZ6", qty: 2, price: try zn.parsePrice("110'160"), time: 1))
        deltas += try ledger.apply(.fill(Fill(execId: "F1", account: "ACC1", instrument: "ZNZ6", side: .buy, qty: 3,
                                              price: try zn.parsePrice("110-18+"), time: 2, source: "t\"q")))
        deltas += try ledger.apply(.mark(instrument: "ZNZ6", price: try zn.parsePrice("110-16"), time: 3, source: "feed"))
        deltas += try ledger.apply(.bust(execId: "F1", time: 4))
        let messages = encoder.messages(for: deltas, seq: 7)
        #expect(messages.count == deltas.count)
        let renderer = TextRenderer(encoder: encoder)
        for (outbound, delta) in zip(messages, deltas) {
            let message = SubscriberMessage(delta, seq: 7)
            #expect(outbound.jsonBytes == encoder.json(message))
            #expect(outbound.jsonFrame.bytes == Frames.text(bytes: encoder.json(message)).bytes)
            #expect(outbound.textFrame.bytes == Frames.text(renderer.line(message)).bytes)
            #expect(outbound.channel == message.route.channel)
            #expect(outbound.account == message.route.account)
            #expect(outbound.instrument == message.route.instrument)
        }
    }

    @Test func textFramesOfAnyLengthEqualTheirBytesFrames() {
        for length in [0, 5, 125, 126, 300, 65_535, 65_536] {
            let payload = String(repeating: "x", count: length)
            #expect(Frames.text(bytes: Array(payload.utf8)).bytes == Frames.text(payload).bytes)
            // The frame written straight from the JSON writer, with each header length.
            var json = JSONBytes(reservingCapacity: 64)
            json.string(String(repeating: "x", count: max(0, length - 2)))
            #expect(Frames.text(json: json).bytes == Frames.text(bytes: json.bytes).bytes)
        }
    }

    /// A message is encoded once however many threads first ask for it at the same time: all of
    /// them get the one frame (the writer builds messages, the loop and the stream publisher
    /// read them).
    @Test func concurrentFirstReadsGetTheOneFrame() async throws {
        let encoder = try TextRendererTests.encoder()
        var ledger = Ledger(catalog: encoder.catalog, config: LedgerConfig())
        let zn = try #require(encoder.catalog["ZNZ6"])
        let deltas = try ledger.apply(.fill(Fill(execId: "F1", account: "ACC1", instrument: "ZNZ6", side: .buy, qty: 3,
                                                 price: try zn.parsePrice("110-18+"), time: 2, source: "sim")))
        for round in 0..<20 {
            let messages = encoder.messages(for: deltas, seq: Int64(round + 1))
            let frames = await withTaskGroup(of: [ObjectIdentifier].self) { group in
                for reader in 0..<8 {
                    group.addTask {
                        messages.map { ObjectIdentifier(reader.isMultiple(of: 2) ? $0.jsonFrame : $0.textFrame) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let json = messages.map { ObjectIdentifier($0.jsonFrame) }
            let text = messages.map { ObjectIdentifier($0.textFrame) }
            for read in frames { #expect(read == json || read == text) }
            for (message, delta) in zip(messages, deltas) {
                #expect(message.jsonBytes == encoder.json(SubscriberMessage(delta, seq: Int64(round + 1))))
            }
        }
    }
}
