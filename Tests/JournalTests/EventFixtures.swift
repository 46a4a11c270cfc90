@testable import Journal

/// Small builders so each test says only what matters to it.
enum EventFixtures {
    static func fill(_ execId: String, account: String = "ACC1", instrument: String = "ZNZ6", side: String = "buy",
                     qty: Int64 = 1, price: String = "110-08", priceUnits: Int64 = 28_224, time: Int64 = 1_000) -> NewEvent {
        let row = FillRow(execId: execId, account: account, instrument: instrument, side: side, qty: qty,
                          price: price, priceUnits: priceUnits, time: time, source: "test")
        return NewEvent(kind: "fill", account: account, instrument: instrument, execId: execId, time: time,
                        source: "test", payload: #"{"type":"fill","execId":"\#(execId)"}"#,
                        deltas: .json(#"[{"type":"fill","execId":"\#(execId)"}]"#), fill: row)
    }

    static func bust(_ execId: String) -> NewEvent {
        NewEvent(kind: "bust", execId: execId, time: 2_000, source: "test",
                 payload: #"{"type":"bust","execId":"\#(execId)"}"#,
                 fillStatus: FillStatusUpdate(execId: execId, status: "busted"))
    }

    static func mark(_ instrument: String, price: String, units: Int64) -> NewEvent {
        NewEvent(kind: "mark", instrument: instrument, time: 3_000, source: "test",
                 payload: #"{"type":"mark","instrument":"\#(instrument)","price":"\#(price)"}"#,
                 mark: MarkRow(instrument: instrument, price: price, priceUnits: units, time: 3_000))
    }
}
