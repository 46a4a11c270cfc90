/// Where a replay stands: the pass over the file (0 = first) and the last line submitted.
/// Stored as the `replay` source cursor, `"<loop>:<line>"`, in the same transaction as the line.
public struct ReplayCursor: Sendable, Equatable, CustomStringConvertible {
    public var loop: Int
    public var line: Int
    public init(loop: Int, line: Int) { self.loop = loop; self.line = line }

    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let loop = Int(parts[0]), let line = Int(parts[1]), loop >= 0, line >= 0 else { return nil }
        self.init(loop: loop, line: line)
    }

    public var description: String { "\(loop):\(line)" }
}
