import ConfigFiles
import Ledger
import TestSupport
import Testing

@Suite struct AccountsFileTests {
    func refusal(_ text: String) -> String? {
        do { _ = try AccountsFile.parse(text, file: "a.json"); return nil } catch { return error.description }
    }

    @Test func theShippedFileLoads() throws {
        let config = try AccountsFile.load(path: repositoryRoot + "/config/accounts.json")
        #expect(config.defaultMethod == .lifo && config.defaultLossLimit == Money(dollars: 25_000))
        #expect(config.accounts == ["ACC1": AccountConfig(lossLimit: Money(dollars: 10_000)),
                                    "ACC2": AccountConfig(lossLimit: Money(dollars: 2500)),
                                    "ACC3": AccountConfig(method: .fifo, lossLimit: Money(dollars: 5000)),
                                    "DESK-HEDGE": AccountConfig(method: .average, lossLimit: Money(dollars: 50_000))])
    }

    @Test func readsMethodsAndLimits() throws {
        let config = try AccountsFile.parse(#"{"defaultLossLimit":"25000","accounts":{"ACC1":{"method":"fifo","lossLimit":5000},"ACC2":{"method":"average","lossLimit":"250.5"}}}"#, file: "a.json")
        #expect(config.defaultMethod == .lifo)
        #expect(config.method(for: "ACC1") == .fifo && config.method(for: "ACC2") == .average && config.method(for: "X") == .lifo)
        #expect(config.lossLimit(for: "ACC1") == Money(dollars: 5000) && config.lossLimit(for: "X") == Money(dollars: 25000))
        #expect(config.lossLimit(for: "ACC2") == Money(decimal: "250.5"))
    }

    /// As with the Foundation decoder this replaces: every key is optional, unknown keys are
    /// ignored, `null` is the same as leaving a key out.
    @Test func acceptsWhatTheFileAlwaysAccepted() throws {
        #expect(try AccountsFile.parse("{}", file: "a.json") == LedgerConfig())
        let config = try AccountsFile.parse(#"{"//":"note","defaultMethod":null,"extra":1,"accounts":{"//":"note","A":{"method":"fifo","lossLimit":null,"extra":true}}}"#, file: "a.json")
        #expect(config == LedgerConfig(accounts: ["A": AccountConfig(method: .fifo)]))
    }

    @Test(arguments: [
        (#"{"defaultMethod":"hifo"}"#, "a.json: defaultMethod: bad value 'hifo'; did you mean 'lifo'? (allowed: lifo, fifo, average)"),
        (#"{"defaultMethod":1}"#, "a.json: defaultMethod: wrong type: expected a string, found number"),
        (#"{"defaultLossLimit":"25,000"}"#, #"a.json: defaultLossLimit: not a decimal: "25,000" (exact to 8 places)"#),
        (#"{"defaultLossLimit":2500.5}"#, #"a.json: defaultLossLimit: wrong type: expected a decimal string such as "72.5" or whole dollars, found 2500.5"#),
        (#"{"defaultLossLimit":true}"#, #"a.json: defaultLossLimit: wrong type: expected a decimal string such as "72.5" or whole dollars, found boolean"#),
        (#"{"defaultLossLimit":100000000000}"#, "a.json: defaultLossLimit: amount too large: 100000000000"),
        (#"{"accounts":[]}"#, "a.json: accounts: wrong type: expected an object, found array"),
        (#"{"accounts":{"ACC1":"fifo"}}"#, "a.json: accounts.ACC1: wrong type: expected an object, found string"),
        (#"{"accounts":{"ACC1":{"method":"FIFO"}}}"#, "a.json: accounts.ACC1.method: bad value 'FIFO'; did you mean 'fifo'? (allowed: lifo, fifo, average)"),
        (#"{"accounts":{"ACC1":{"lossLimit":"x"}}}"#, #"a.json: accounts.ACC1.lossLimit: not a decimal: "x" (exact to 8 places)"#),
        (#"[]"#, "a.json: wrong type: expected an object, found array"),
        (#"{"accounts":{,}}"#, "a.json: invalid JSON at line 1, column 14: expected a quoted key"),
    ])
    func refusesBadFilesNamingTheKey(text: String, message: String) {
        #expect(refusal(text) == message)
    }
}
