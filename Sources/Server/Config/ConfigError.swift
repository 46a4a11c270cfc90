/// A configuration problem, naming where it is: a key path such as `live.sources.tt.pollSeconds`
/// (section first), an environment variable, a file, or a command-line flag.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) { self.path = path; self.message = message }
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
