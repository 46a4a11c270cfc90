import Testing
@testable import Server

@Suite struct OperationsTests {
    @Test func aFoundationErrorDumpBecomesTheSentenceBeforeIt() {
        let dump = #"cannot read /x/instruments.json: Error Domain=NSCocoaErrorDomain Code=260 "The file doesn’t exist." UserInfo={NSFilePath=/x}"#
        #expect(ServerRunner.humane(dump) == "cannot read /x/instruments.json")
        #expect(ServerRunner.humane("Error Domain=NSCocoaErrorDomain Code=257") == "cannot be read")
        #expect(ServerRunner.humane("instrument ZNZ6 is defined twice") == "instrument ZNZ6 is defined twice")
    }

    @Test func csvIsRFC4180WithAHeaderAndCRLF() {
        let table = Operations.Table(columns: ["a", "b"], rows: [["1", "x,y"], ["2", "say \"hi\"\nthere"]])
        #expect(Operations.csv(table) == "a,b\r\n1,\"x,y\"\r\n2,\"say \"\"hi\"\"\nthere\"\r\n")
    }

    @Test func ndjsonKeepsEveryValueAsAString() {
        let table = Operations.Table(columns: ["price", "note"], rows: [["110.265625", "tab\there \"q\""]])
        #expect(Operations.ndjson(table) == #"{"price":"110.265625","note":"tab\there \"q\""}"# + "\n")
    }

    @Test func datesAndSince() {
        #expect(Operations.parseDate("2026-11-24") == 20261124)
        #expect(Operations.parseDate("2026-13-01") == nil && Operations.parseDate("24/11/2026") == nil)
        #expect(Operations.dayString(20260105) == "2026-01-05")
        #expect(Operations.parseSince("2026-11-24") == Operations.parseSince("2026-11-24T00:00:00Z"))
        #expect(Operations.parseSince("yesterday") == nil)
    }
}
