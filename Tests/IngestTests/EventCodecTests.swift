import Ledger
import Testing
@testable import Ingest

@Suite struct EventCodecTests {
    @Test(arguments: [
        LedgerEvent.fill(Fill(execId: "E\"1\\", account: "ACC1", instrument: "ZNZ6", side: .sell, qty: 7,
                              price: Price(units: 11_026_562_500), time: -5, source: "feed ☃")),
        .bust(execId: "E1", time: 1_764_000_000_000_000_000),
        .correct(execId: "E1", qty: 2, price: nil, time: 3),
        .correct(execId: "E1", qty: nil, price: Price(units: -390_625), time: 3),
        .mark(instrument: "ESZ6", price: Price(units: 601_225_000_000), time: 9, source: "sim"),
        .sod(account: "ACC2", instrument: "ZTZ6", qty: -5, price: Price(units: 10_294_531_250), time: 0),
        .dayRoll(time: Int64.max),
    ])
    func payloadsReplayToTheSameEvent(_ event: LedgerEvent) throws {
        #expect(try EventCodec.decode(EventCodec.encode(event)) == event)
    }
}
