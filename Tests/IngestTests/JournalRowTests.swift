import CSQLite
import Foundation
import JSON
import Journal
import Ledger
import Testing
import Wire
@testable import Ingest

/// What the pipeline stores per event since journal schema v4 (one row, compact deltas) and what
/// reads it back: resumes and the stream's catch-up must give the bytes subscribers got live.
@Suite struct JournalRowTests {
    static let busy = WorkedExample.fills + [
        WorkedExample.mark,
        #"{"type":"order","action":"new","orderId":"O1","account":"ACC2","instrument":"ZBZ6","side":"buy","qty":5,"price":"118-08"}"#,
        #"{"type":"fill","execId":"F6","account":"ACC2","instrument":"ZBZ6","side":"buy","qty":2,"price":"118-08","orderId":"O1"}"#,
        #"{"type":"bust","execId":"F2"}"#,
        #"{"type":"correct","execId":"F3","qty":3,"price":"110-21"}"#,
        #"{"type":"sod","account":"ACC1","instrument":"ZNZ6","qty":2,"price":"110'160"}"#,
    ]

    /// The JSON of every message published live, per seq.
    static func liveMessages(_ harness: PipelineHarness) -> [Int64: [[UInt8]]] {
        var live: [Int64: [[UInt8]]] = [:]
        for event in harness.published.withLock({ $0 }) { live[event.seq] = event.messages.map(\.jsonBytes) }
        return live
    }

    /// Resumed frames in the JSON format, without the leading `resumed` message.
    static func resumedFrames(_ harness: PipelineHarness) -> [[UInt8]] {
        let epoch = harness.pipeline.epoch
        let plan = harness.read { $0.resume(since: 0, epoch: epoch, filter: SubscriptionFilter(), format: .json) }
        guard case .replay(let frames, _, let complete) = plan, complete else { return [] }
        return frames.dropFirst().map(\.bytes)
    }

    @Test func aResumeAfterARestartGetsTheBytesSubscribersGotLive() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        for line in [WorkedExample.sod] + Self.busy {
            #expect(harness.submit(json: [line]).allSatisfy { if case .ack = $0 { true } else { false } }, "\(line)")
        }
        let live = Self.liveMessages(harness)
        let expected = live.keys.sorted().flatMap { live[$0]! }.map { Frames.text(bytes: $0).bytes }
        #expect(expected.count > 20)
        #expect(Self.resumedFrames(harness) == expected)

        harness.close()
        try harness.open()
        #expect(Self.resumedFrames(harness) == expected)
        // The stream publisher's catch-up reads the same arrays the live path published.
        let records = try harness.journal.events(after: 0, limit: 100)
        #expect(records.allSatisfy { if case .binary = $0.deltas { true } else { false } })
        for record in records {
            let array = harness.read { $0.messagesJSON(of: record) }
            #expect(array.map { String(decoding: $0, as: UTF8.self) }
                    == "[" + live[record.seq]!.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",") + "]")
        }
    }

    /// A journal written before v4 holds each event's messages as a JSON array: resumes read those
    /// rows as they always did, next to rows in the new form.
    @Test func rowsWithJSONDeltasFromAnOlderServerStillResume() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        _ = harness.submit(json: [WorkedExample.sod] + WorkedExample.fills)
        let live = Self.liveMessages(harness)
        let expected = live.keys.sorted().flatMap { live[$0]! }.map { Frames.text(bytes: $0).bytes }
        harness.close()
        do {
            let connection = try SQLiteConnection(path: harness.journalPath)
            defer { connection.close() }
            for seq in [Int64(2), 4] {
                let json = "[" + live[seq]!.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",") + "]"
                try connection.run("UPDATE events SET deltas = ?1 WHERE seq = ?2", [.text(json), .integer(seq)])
            }
        }
        try harness.open()
        let records = try harness.journal.events(after: 0, limit: 10)
        #expect(records.map { if case .json = $0.deltas { true } else { false } } == [false, true, false, true, false, false])
        #expect(Self.resumedFrames(harness) == expected)
    }

    /// Each fill its own commit, as at 1 fill/s … 1k fills/s with one producer: the WAL grows by
    /// the pages the commit rewrote. Schema v3 wrote ~8 pages per such commit (the event row
    /// with ~2.5 KB of JSON, the fills row and four indexes); v4 writes the events table's last
    /// leaf and one index leaf, plus a new leaf, its parent and the header page every few rows.
    @Test func aSingleFillCommitWritesAboutTwoWALPages() throws {
        let harness = try PipelineHarness()
        defer { harness.close() }
        let accounts = ["ACC1", "ACC2", "ACC3", "ACC4"]
        let instruments = ["ZNZ6", "ZBZ6", "ZFZ6", "ZTZ6"]
        func fill(_ n: Int) -> String {
            #"{"type":"fill","execId":"W\#(n)","account":"\#(accounts[n % 4])","instrument":"\#(instruments[(n / 4) % 4])","side":"\#(n % 3 == 0 ? "sell" : "buy")","qty":\#(n % 5 + 1),"price":"\#(instruments[(n / 4) % 4] == "ZBZ6" ? "118-08" : (instruments[(n / 4) % 4] == "ZTZ6" ? "102-30" : (instruments[(n / 4) % 4] == "ZFZ6" ? "107-16" : "110-08")))"}"#
        }
        for n in 0..<100 { _ = harness.submit(json: [fill(n)]) }
        let walPath = harness.journalPath + "-wal"
        func walSize() throws -> Int { try FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int ?? 0 }
        let before = try walSize()
        let commits = 300
        for n in 100..<(100 + commits) {
            #expect(harness.submit(json: [fill(n)]) == [.ack(seq: Int64(n + 1))])
        }
        let frames = Double(try walSize() - before) / Double(commits * (4_096 + 24))
        #expect(frames >= 2 && frames <= 2.6, "WAL frames per single-fill commit: \(frames)")
    }
}
