/// A configuration problem, naming where it is: a key path such as `live.sources.tt.pollSeconds`
/// (section first), an environment variable, a file, or a command-line flag. Errors from a
/// file of its own (instruments, accounts, tokens) also name that file, so the one line says
/// which file to open and which key to fix: `config/instruments.json: instruments[3].tick: …`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var path: String
    public var message: String

    public init(path: String, message: String) { self.path = path; self.message = message }

    public init(file: String, path: String, message: String) {
        self.file = file; self.path = path; self.message = message
    }

    /// The same problem, said to be in `file` (key paths inside a file start at its root).
    public func inFile(_ file: String) -> ConfigError { ConfigError(file: file, path: path, message: message) }

    public var description: String {
        ([file, path].compactMap { $0 }.filter { !$0.isEmpty } + [message]).joined(separator: ": ")
    }
}
