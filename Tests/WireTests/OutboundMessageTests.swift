import Foundation
import Ledger
import Testing
@testable import Wire

@Suite struct OutboundMessageTests {
    @Test func theHotPathFramesEqualTheTreePathInBothFormats() throws {
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
        for (message, delta) in zip(messages, deltas) {
            let tree = encoder.route(delta, seq: 7).json
            #expect(message.json == tree.serialized)
            #expect(message.jsonFrame.bytes == Frames.text(tree.serialized).bytes)
            #expect(message.textFrame.bytes == Frames.text(renderer.line(tree)).bytes)
        }
    }
}
