import Bytes
import Hub
import Wire

/// Committed events made by hand: each event has one message per account it touches, so tests
/// can check filters, groups and the seq rules without a ledger.
enum HubFixtures {
    static func message(seq: Int64, channel: Channel = .fills, account: String? = "ACC1", instrument: String? = "ZNZ6") -> OutboundMessage {
        var json = #"{"type":"\#(channel == .fills ? "fill" : channel.rawValue)","seq":\#(seq)"#
        if let account { json += #","account":"\#(account)""# }
        if let instrument { json += #","instrument":"\#(instrument)""# }
        json += "}"
        return OutboundMessage(channel: channel, account: account, instrument: instrument, json: json, text: "#\(seq) \(channel.rawValue)")
    }

    static func event(_ seq: Int64, accounts: [String] = ["ACC1"]) -> CommittedEvent {
        CommittedEvent(seq: seq, messages: accounts.map { message(seq: seq, account: $0) })
    }

    /// Events first...last, cut into batches at `cuts` (the seqs that end a batch).
    static func batches(_ range: ClosedRange<Int64>, endingAt cuts: Set<Int64>) -> [[CommittedEvent]] {
        var batches: [[CommittedEvent]] = [[]]
        for seq in range {
            batches[batches.count - 1].append(event(seq))
            if cuts.contains(seq) && seq != range.upperBound { batches.append([]) }
        }
        return batches
    }

    static func snapshotFrame(seq: Int64) -> SharedBuffer {
        Frames.text(#"{"type":"snapshot","seq":\#(seq)}"#)
    }

    static func subscriber(_ id: UInt64, sink: RecordingSink, format: WireFormat = .json,
                           filter: SubscriptionFilter = SubscriptionFilter()) -> Subscriber {
        Subscriber(id: id, sink: sink, format: format, filter: filter)
    }
}
