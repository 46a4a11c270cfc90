import Testing
@testable import Journal

@Suite struct AppendTests {
    @Test func firstAppendGetsSeqOne() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        let seqs = try journal.append([NewEvent(kind: "mark", time: 1, source: "test", payload: "{}")])
        #expect(seqs == [1])
        #expect(journal.lastSeq == 1)
    }
}
