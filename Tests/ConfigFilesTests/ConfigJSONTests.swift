import ConfigFiles
import Testing

@Suite struct ConfigJSONTests {
    @Test func jsonErrorsNameLineAndColumn() {
        #expect(throws: ConfigError(path: "f.json", message: "invalid JSON at line 2, column 3: expected ',' or '}'")) {
            try ConfigJSON.parse("{\"a\": 1\n  \"b\": 2}", file: "f.json")
        }
        #expect(TextPosition(offset: 0, in: "") == TextPosition(line: 1, column: 1))
        #expect(TextPosition(offset: 6, in: "ab\n\ncd") == TextPosition(line: 3, column: 3))
        #expect(TextPosition(offset: 99, in: "ab\nc") == TextPosition(line: 2, column: 2))
    }

    @Test func errorsNameTheFileThenTheKeyPath() {
        #expect(ConfigError(path: "live.port", message: "out of range").description == "live.port: out of range")
        #expect(ConfigError(path: "", message: "no file").description == "no file")
        #expect(ConfigError(path: "instruments[3].tick", message: "bad").inFile("i.json").description == "i.json: instruments[3].tick: bad")
        #expect(ConfigError(path: "", message: "bad").inFile("i.json").description == "i.json: bad")
    }
}
