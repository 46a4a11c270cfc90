/// Line and column (both from 1) of a byte offset in a text, for parse errors a person fixes
/// in an editor. Columns count bytes, like the offset they come from.
public struct TextPosition: Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) { self.line = line; self.column = column }

    public init(offset: Int, in text: String) {
        var line = 1, column = 1
        for byte in text.utf8.prefix(max(0, offset)) {
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        self.init(line: line, column: column)
    }

    public var description: String { "line \(line), column \(column)" }
}
