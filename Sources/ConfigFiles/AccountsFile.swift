import Ledger

/// `accounts.json`: cost method, loss limit and position limit per account, with defaults for the
/// rest, and the desk's loss limit.
///
///     {"defaultMethod":"lifo","defaultLossLimit":"25000","defaultPositionLimit":200,"deskLossLimit":"60000",
///      "accounts":{"ACC1":{"method":"fifo","lossLimit":5000,"positionLimit":50}}}
///
/// Every key is optional. Loss limits are exact decimal strings or whole dollars. Keys the
/// reader does not know are ignored and `null` means absent, as they always have been for this
/// file; inside `accounts`, keys starting with "//" are comments as in the server config.
public enum AccountsFile {
    public static func load(path: String) throws(ConfigError) -> LedgerConfig {
        try parse(TextFile.read(path), file: path)
    }

    /// `file` only names the source in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> LedgerConfig {
        let json = try ConfigJSON.parse(text, file: file)
        do {
            let root = try ConfigSection(json, path: "", nullMeansAbsent: true)
            var config = LedgerConfig(defaultMethod: try root.costMethod("defaultMethod") ?? .lifo,
                                      defaultLossLimit: try root.money("defaultLossLimit"),
                                      defaultPositionLimit: try root.integer("defaultPositionLimit", in: 1...1_000_000_000).map { Int64($0) },
                                      deskLossLimit: try root.money("deskLossLimit"))
            if let accounts = try root.section("accounts") {
                for (account, value) in accounts.members where !account.hasPrefix("//") {
                    let settings = try ConfigSection(value, path: accounts.keyPath(account), nullMeansAbsent: true)
                    config.accounts[account] = AccountConfig(method: try settings.costMethod("method"),
                                                             lossLimit: try settings.money("lossLimit"),
                                                             positionLimit: try settings.integer("positionLimit", in: 1...1_000_000_000).map { Int64($0) })
                }
            }
            return config
        } catch {
            throw error.inFile(file)
        }
    }
}
