import JSON

/// A token file: names, roles, account scopes and expiries, with only SHA-256 hashes of tokens.
///
///     {"tokens":[{"name":"desk","sha256":"…64 hex…","role":"viewer","accounts":["ACC1"],"expires":"2027-01-01T00:00:00Z"}]}
///
/// This is the file's shape only; what a role or an expiry means is the server's (TokenStore).
/// Keys the reader does not know are ignored and `null` means absent, as they always have been.
public enum TokensFile {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var sha256: String
        public var role: String
        /// nil: every account.
        public var accounts: [String]?
        /// ISO 8601 ("2027-01-01T00:00:00Z"); nil: never.
        public var expires: String?

        public init(name: String, sha256: String, role: String, accounts: [String]? = nil, expires: String? = nil) {
            self.name = name
            self.sha256 = sha256
            self.role = role
            self.accounts = accounts
            self.expires = expires
        }
    }

    public static func load(path: String) throws(ConfigError) -> [Entry] {
        try parse(TextFile.read(path), file: path)
    }

    /// `file` only names the source in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> [Entry] {
        let json = try ConfigJSON.parse(text, file: file)
        do {
            let root = try ConfigSection(json, path: "", nullMeansAbsent: true)
            var entries: [Entry] = []
            for token in try root.required("tokens", root.sections) {
                entries.append(Entry(name: try token.required("name", token.string),
                                     sha256: try token.required("sha256", token.string),
                                     role: try token.required("role", token.string),
                                     accounts: try token.stringArray("accounts"),
                                     expires: try token.string("expires")))
            }
            return entries
        } catch {
            throw error.inFile(file)
        }
    }

    /// The whole file as JSON, keys in the documented order; absent scopes and expiries are left
    /// out, as the Foundation encoder that used to write this file left them out.
    public static func json(_ entries: [Entry]) -> JSONValue {
        .object([("tokens", .array(entries.map { entry in
            var fields: [(String, JSONValue)] = [("name", .string(entry.name)), ("sha256", .string(entry.sha256)),
                                                 ("role", .string(entry.role))]
            if let accounts = entry.accounts { fields.append(("accounts", .array(accounts.map(JSONValue.string)))) }
            if let expires = entry.expires { fields.append(("expires", .string(expires))) }
            return .object(fields)
        }))])
    }
}
