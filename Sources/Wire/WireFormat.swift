/// How a subscriber reads: JSON objects, or aligned text lines for terminals (`?format=text`).
public enum WireFormat: String, Sendable, Hashable {
    case json, text
}
