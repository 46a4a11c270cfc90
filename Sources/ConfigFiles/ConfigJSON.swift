import JSON

/// Parses a config or secrets file with the JSON module's parser, turning its byte offset into the
/// line and column a person looks for.
public enum ConfigJSON {
    public static func parse(_ text: String, file: String) throws(ConfigError) -> JSONValue {
        do {
            return try JSONValue.parse(text)
        } catch {
            let position = TextPosition(offset: error.offset, in: text)
            throw ConfigError(path: file, message: "invalid JSON at \(position): \(wording(error.message))")
        }
    }

    /// Hand-written config files mostly break on a trailing comma or an unquoted key (JSON5
    /// habits), so the parser's "expected a key" names the missing quotes.
    private static func wording(_ parserMessage: String) -> String {
        parserMessage == "expected a key" ? "expected a quoted key" : parserMessage
    }
}
