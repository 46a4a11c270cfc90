import COpenSSL
import ConfigFiles
import EventSources
import Foundation

/// Who is calling, after authentication.
public struct Principal: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable, Comparable {
        case viewer, producer, admin
        var rank: Int { self == .viewer ? 0 : self == .producer ? 1 : 2 }
        public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
    }
    public var name: String
    public var role: Role
    /// nil = every account.
    public var accounts: Set<String>?
    /// Nanoseconds since the epoch; nil = never.
    public var expires: Int64?
    /// SHA-256 of the token this principal came from (nil: anonymous), so a reload can tell
    /// whether that token is still in the file.
    public var fingerprint: String? = nil

    public func allows(account: String) -> Bool { accounts.map { $0.contains(account) } ?? true }
}

/// The tokens a server accepts, from a token file (ConfigFiles.TokensFile): names, roles, account
/// scopes and expiries, with only SHA-256 hashes of tokens.
public struct TokenStore: Sendable {
    public private(set) var entries: [TokensFile.Entry] = []
    private var byHash: [String: Principal] = [:]

    public init() {}

    public init(path: String) throws(ConfigurationError) {
        let entries: [TokensFile.Entry]
        do { entries = try TokensFile.load(path: path) } catch {
            throw ConfigurationError("tokens file \(error)")
        }
        for entry in entries { try add(entry, origin: path) }
    }

    mutating func add(_ entry: TokensFile.Entry, origin: String) throws(ConfigurationError) {
        guard let role = Principal.Role(rawValue: entry.role) else {
            throw ConfigurationError("tokens file \(origin): token '\(entry.name)' has unknown role '\(entry.role)' (viewer, producer, admin)")
        }
        guard entry.sha256.count == 64, entry.sha256.allSatisfy(\.isHexDigit) else {
            throw ConfigurationError("tokens file \(origin): token '\(entry.name)' needs a 64-hex-digit sha256")
        }
        var expires: Int64?
        if let text = entry.expires {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw ConfigurationError("tokens file \(origin): token '\(entry.name)' has an unreadable expiry '\(text)'")
            }
            guard let nanos = TokenStore.nanoseconds(sinceEpoch: date.timeIntervalSince1970) else {
                throw ConfigurationError("tokens file \(origin): token '\(entry.name)' expires '\(text)', beyond \(TokenStore.latestExpiryText), the latest expiry this server can represent")
            }
            expires = nanos
        }
        entries.append(entry)
        let hash = entry.sha256.lowercased()
        byHash[hash] = Principal(name: entry.name, role: role, accounts: entry.accounts.map(Set.init), expires: expires, fingerprint: hash)
    }

    /// The latest expiry: Int64 nanoseconds since the epoch end in April 2262.
    public static let latestExpiryText = "2262-04-11T23:47:16Z"

    /// Whole seconds since the epoch as nanoseconds, or nil when that does not fit an Int64.
    public static func nanoseconds(sinceEpoch seconds: Double) -> Int64? {
        guard seconds.isFinite, let whole = Int64(exactly: seconds.rounded(.down)) else { return nil }
        let (nanos, overflow) = whole.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? nil : nanos
    }

    /// True while the token `principal` came from is still in the store, unchanged and unexpired
    /// (anonymous principals always are): open connections of a revoked, changed or expired
    /// token are closed with 4001.
    public func admits(_ principal: Principal, now: Int64) -> Bool {
        guard let fingerprint = principal.fingerprint else { return true }
        guard let current = byHash[fingerprint], current == principal else { return false }
        if let expires = current.expires, expires <= now { return false }
        return true
    }

    /// Removes the token named `name` from the file (written whole, mode 0600); false when there is none.
    public static func revokeToken(path: String, name: String) throws(ConfigurationError) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        var entries: [TokensFile.Entry]
        do { entries = try TokensFile.load(path: path) } catch {
            throw ConfigurationError("tokens file \(error) (refusing to overwrite it)")
        }
        let before = entries.count
        entries.removeAll { $0.name == name }
        guard entries.count < before else { return false }
        do { try PrivateFile.write(TokensFile.json(entries).prettyRendered + "\n", to: path) } catch {
            throw ConfigurationError("tokens file \(path): cannot write (\(error.message))")
        }
        return true
    }

    public var isEmpty: Bool { byHash.isEmpty }

    /// The principal for a presented token, or nil. Compares hashes, so the store never holds a secret.
    public func principal(forToken token: String) -> Principal? {
        byHash[TokenStore.sha256Hex(token)]
    }

    public static func sha256Hex(_ text: String) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { SHA256($0.baseAddress, $0.count, &digest) }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// A new random token: 32 bytes from OpenSSL's CSPRNG, hex, with a recognisable prefix.
    public static func generateToken() throws(ConfigurationError) -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&bytes, 32) == 1 else { throw ConfigurationError("OpenSSL could not provide secure random bytes; no token was made") }
        return "lw_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Appends a new token to the file (creating it, mode 0600) and returns the token to print once.
    public static func addToken(path: String, name: String, role: Principal.Role, accounts: [String]?, expires: Int64?) throws(ConfigurationError) -> String {
        var entries: [TokensFile.Entry] = []
        if FileManager.default.fileExists(atPath: path) {
            do { entries = try TokensFile.load(path: path) } catch {
                throw ConfigurationError("tokens file \(error) (refusing to overwrite it)")
            }
        }
        if entries.contains(where: { $0.name == name }) {
            throw ConfigurationError("tokens file \(path): a token named '\(name)' already exists")
        }
        let token = try generateToken()
        let expiry = expires.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval($0 / 1_000_000_000))) }
        entries.append(TokensFile.Entry(name: name, sha256: sha256Hex(token), role: role.rawValue, accounts: accounts, expires: expiry))
        // Written whole (temporary file and rename) with mode 0600 from the first byte: a reader
        // never sees half a file, and no one else can read the hashes even for a moment.
        do { try PrivateFile.write(TokensFile.json(entries).prettyRendered + "\n", to: path) } catch {
            throw ConfigurationError("tokens file \(path): cannot write (\(error.message))")
        }
        return token
    }
}

/// A one-line, user-facing configuration problem.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
