import ConfigFiles
import JSON
import TestSupport
import Testing

@Suite struct TokensFileTests {
    let hash = String(repeating: "ab", count: 32)

    func refusal(_ text: String) -> String? {
        do { _ = try TokensFile.parse(text, file: "t.json"); return nil } catch { return error.description }
    }

    @Test func readsEntries() throws {
        let entries = try TokensFile.parse(#"{"tokens":[{"name":"desk","sha256":"\#(hash)","role":"viewer","accounts":["ACC1"],"expires":"2027-01-01T00:00:00Z"},{"name":"ops","sha256":"\#(hash)","role":"admin"}]}"#, file: "t.json")
        #expect(entries == [TokensFile.Entry(name: "desk", sha256: hash, role: "viewer", accounts: ["ACC1"], expires: "2027-01-01T00:00:00Z"),
                            TokensFile.Entry(name: "ops", sha256: hash, role: "admin")])
    }

    /// Files written before this reader, by Foundation's JSONEncoder (pretty, sorted keys, " : "),
    /// and by hand or script with nulls and extra keys, still load.
    @Test func readsFilesWrittenByTheFoundationEncoder() throws {
        let old = """
        {
          "tokens" : [
            {
              "accounts" : [
                "ACC1"
              ],
              "name" : "desk",
              "role" : "viewer",
              "sha256" : "\(hash)"
            },
            {
              "accounts" : null,
              "expires" : "2020-01-01T00:00:00Z",
              "name" : "old",
              "note" : "added by a script",
              "role" : "admin",
              "sha256" : "\(hash)"
            }
          ]
        }
        """
        #expect(try TokensFile.parse(old, file: "t.json") == [
            TokensFile.Entry(name: "desk", sha256: hash, role: "viewer", accounts: ["ACC1"]),
            TokensFile.Entry(name: "old", sha256: hash, role: "admin", expires: "2020-01-01T00:00:00Z"),
        ])
    }

    @Test func writesWhatItReads() throws {
        let entries = [TokensFile.Entry(name: "desk \"1\"", sha256: hash, role: "viewer", accounts: ["ACC1", "ACC2"]),
                       TokensFile.Entry(name: "ops", sha256: hash, role: "admin", expires: "2027-01-01T00:00:00Z")]
        let json = TokensFile.json(entries)
        #expect(json.serialized == #"{"tokens":[{"name":"desk \"1\"","sha256":"\#(hash)","role":"viewer","accounts":["ACC1","ACC2"]},"#
                + #"{"name":"ops","sha256":"\#(hash)","role":"admin","expires":"2027-01-01T00:00:00Z"}]}"#)
        #expect(try TokensFile.parse(json.serialized, file: "t.json") == entries)
        #expect(try TokensFile.parse(TokensFile.json([]).serialized, file: "t.json") == [])
    }

    @Test(arguments: [
        (#"{}"#, "t.json: tokens: missing required value"),
        (#"{"tokens":{}}"#, "t.json: tokens: wrong type: expected an array of objects, found object"),
        (#"{"tokens":[{"sha256":"x","role":"viewer"}]}"#, "t.json: tokens[0].name: missing required value"),
        (#"{"tokens":[{"name":"a","sha256":"x","role":"viewer"},{"name":"b","role":"viewer"}]}"#, "t.json: tokens[1].sha256: missing required value"),
        (#"{"tokens":[{"name":"a","sha256":"x","role":1}]}"#, "t.json: tokens[0].role: wrong type: expected a string, found number"),
        (#"{"tokens":[{"name":"a","sha256":"x","role":"viewer","accounts":"ACC1"}]}"#, "t.json: tokens[0].accounts: wrong type: expected an array of strings, found string"),
        (#"{"tokens":[{"name":"a","sha256":"x","role":"viewer","accounts":[1]}]}"#, "t.json: tokens[0].accounts[0]: wrong type: expected a non-empty string, found number"),
        (#"{"tokens":[{"name":"a","sha256":"x","role":"viewer","expires":2027}]}"#, "t.json: tokens[0].expires: wrong type: expected a string, found number"),
        (#"{"tokens":[}"#, "t.json: invalid JSON at line 1, column 12: unexpected character"),
    ])
    func refusesBadFilesNamingTheKey(text: String, message: String) {
        #expect(refusal(text) == message)
    }

    @Test func aMissingFileSaysSo() {
        #expect(throws: ConfigError(file: "/nonexistent/tokens.json", path: "", message: "cannot read: No such file or directory")) {
            try TokensFile.load(path: "/nonexistent/tokens.json")
        }
    }
}
