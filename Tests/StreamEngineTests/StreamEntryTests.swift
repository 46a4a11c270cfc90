import RESP
import Testing
@testable import StreamEngine

@Suite struct StreamEntryTests {
    func bulk(_ text: String) -> RESPValue { .bulk(Array(text.utf8)) }
    func entry(_ id: String, _ fields: [String]) -> RESPValue { .array([bulk(id), .array(fields.map(bulk))]) }

    @Test func anEntryRoundTripsThroughItsXADDFields() throws {
        let original = StreamEntry(seq: 42, epoch: "abc", messages: Array(#"[{"type":"mark","seq":42}]"#.utf8))
        #expect(original.id == "42-0")
        let reply = RESPValue.array([bulk(original.id), .array(original.fields.map { .bulk($0) })])
        #expect(try StreamEntry(reply: reply) == original)
    }

    @Test func messagesAreJoinedExactlyLikeTheJournalRow() {
        #expect(StreamEntry.messagesArray([]) == Array("[]".utf8))
        #expect(StreamEntry.messagesArray([Array("{\"a\":1}".utf8), Array("{\"b\":2}".utf8)]) == Array("[{\"a\":1},{\"b\":2}]".utf8))
    }

    @Test func onlySeqDashZeroIDsAreOurs() {
        #expect(StreamEntry.seq(fromID: Array("7-0".utf8)) == 7)
        #expect(StreamEntry.seq(fromID: Array("123456789-0".utf8)) == 123_456_789)
        for id in ["1733380000000-1", "7-00", "-0", "07-0", "7", "a-0", "7-0-0", "9999999999999999999-0"] {
            #expect(StreamEntry.seq(fromID: Array(id.utf8)) == nil, "\(id)")
        }
    }

    @Test func malformedEntriesAreRefusedWithAReason() {
        let cases: [(RESPValue, String)] = [
            (.simple("OK"), "is not [id"),
            (entry("1733380000000-1", ["epoch", "E", "messages", "[]"]), "is not <seq>-0"),
            (entry("0-0", ["epoch", "E", "messages", "[]"]), "is not <seq>-0"),
            (entry("5-0", ["epoch", "E", "messages"]), "odd number"),
            (entry("5-0", ["messages", "[]"]), "no epoch"),
            (entry("5-0", ["epoch", "E"]), "no messages"),
            (entry("5-0", ["epoch", "E", "messages", "{}"]), "no messages"),
            (.array([bulk("5-0"), .array([.integer(1), bulk("x")])]), "not a bulk string"),
        ]
        for (reply, reason) in cases {
            #expect(throws: StreamEntryError.self) { try StreamEntry(reply: reply) }
            do { _ = try StreamEntry(reply: reply) } catch { #expect(error.reason.contains(reason), "\(error.reason)") }
        }
    }

    @Test func unknownFieldsAreIgnored() throws {
        let parsed = try StreamEntry(reply: entry("3-0", ["epoch", "E", "origin", "core-2", "messages", "[]"]))
        #expect(parsed == StreamEntry(seq: 3, epoch: "E", messages: Array("[]".utf8)))
    }

    @Test func readRepliesListEveryStreamsEntriesAndNullIsNone() throws {
        #expect(try StreamEntry.entries(fromRead: .array(nil)).isEmpty)
        let reply = RESPValue.array([.array([bulk("lw"), .array([entry("1-0", ["epoch", "E", "messages", "[]"]),
                                                                  entry("2-0", ["epoch", "E", "messages", "[]"])])])])
        #expect(try StreamEntry.entries(fromRead: reply).map(\.seq) == [1, 2])
        #expect(throws: StreamEntryError.self) { try StreamEntry.entries(fromRead: .array([.array([bulk("lw")])])) }
    }
}

@Suite struct RedisEndpointTests {
    @Test func parsesTheContractsForm() throws {
        let endpoint = try RedisEndpoint(parsing: "redis://127.0.0.1:6380")
        #expect(endpoint.host == "127.0.0.1" && endpoint.port == 6380 && !endpoint.tls)
        #expect(endpoint.password == nil && endpoint.database == nil)
        #expect(endpoint.key == "ladderwire:events" && endpoint.window == 100_000)
    }

    @Test func parsesCredentialsDatabaseAndOptions() throws {
        let endpoint = try RedisEndpoint(parsing: "rediss://desk:p%40ss@redis.internal/3?key=desk:a&window=5000")
        #expect(endpoint.tls && endpoint.host == "redis.internal" && endpoint.port == 6379)
        #expect(endpoint.username == "desk" && endpoint.password == "p@ss" && endpoint.database == 3)
        #expect(endpoint.key == "desk:a" && endpoint.window == 5000)
        #expect(!endpoint.description.contains("p@ss") && endpoint.description.contains("***"))
        let v6 = try RedisEndpoint(parsing: "redis://:only@[::1]:7000")
        #expect(v6.host == "::1" && v6.port == 7000 && v6.username == nil && v6.password == "only")
    }

    @Test(arguments: ["http://h:1", "redis://", "redis://h:0", "redis://h:x", "redis://h/db", "redis://h?window=10",
                      "redis://h?key=", "redis://h?what=1", "redis://[::1:5"])
    func refusesBadAddresses(_ text: String) {
        #expect(throws: RedisEndpoint.ParseError.self) { try RedisEndpoint(parsing: text) }
    }

    @Test func errorsNeverShowThePassword() {
        do { _ = try RedisEndpoint(parsing: "redis://:hunter2@h:0") } catch { #expect(!error.description.contains("hunter2")) }
    }
}

@Suite struct RedisEndpointOptionTests {
    @Test func replyTimeoutAndCAAreOptions() throws {
        let endpoint = try RedisEndpoint(parsing: "rediss://h:6380?timeout=3&ca=/etc/ca.pem")
        #expect(endpoint.replyTimeout == 3 && endpoint.caFile == "/etc/ca.pem" && endpoint.tls)
        #expect(try RedisEndpoint(parsing: "redis://h").replyTimeout == 10)
        for bad in ["redis://h?timeout=0", "redis://h?timeout=301", "redis://h?timeout=x", "redis://h?ca="] {
            #expect(throws: RedisEndpoint.ParseError.self) { try RedisEndpoint(parsing: bad) }
        }
    }
}
