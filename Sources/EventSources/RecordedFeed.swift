import Bytes
import Foundation
import JSON
import Ledger
import Wire

/// A recorded feed file: NDJSON, one `{"at": ISO time, <producer message fields>}` per line,
/// sorted by `at`. Blank lines and `#` comments are ignored; a bad line is kept aside with its
/// line number so the replay can report and skip it.
public struct RecordedFeed: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        /// 1-based line number in the file (the replay cursor counts these).
        public var number: Int
        /// Recorded time, nanoseconds since the Unix epoch.
        public var at: Int64
        public var message: ProducerMessage
    }

    public struct BadLine: Sendable, Equatable, CustomStringConvertible {
        public var number: Int
        public var reason: String
        public var description: String { "line \(number): \(reason)" }
    }

    public var lines: [Line] = []
    public var badLines: [BadLine] = []

    public init(text: String) {
        var number = 0
        var previousAt = Int64.min
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            switch RecordedFeed.parse(line: trimmed) {
            case .success(let (at, message)):
                if at < previousAt {
                    badLines.append(BadLine(number: number, reason: "'at' \(isoString(at)) is earlier than the line before (lines must be sorted by 'at')"))
                    continue
                }
                previousAt = at
                lines.append(Line(number: number, at: at, message: message))
            case .failure(let bad):
                badLines.append(BadLine(number: number, reason: bad.reason))
            }
        }
    }

    private struct Reason: Error { var reason: String }

    private static func parse(line: String) -> Result<(Int64, ProducerMessage), Reason> {
        guard case .object(let fields)? = try? JSONValue.parse(line) else {
            return .failure(Reason(reason: "not a JSON object"))
        }
        let value = JSONValue.object(fields)
        guard let atText = value["at"]?.stringValue else { return .failure(Reason(reason: "field 'at' (ISO 8601 UTC time) is required")) }
        guard let at = parseISO8601(atText) else { return .failure(Reason(reason: "field 'at' is not an ISO 8601 UTC time: \"\(atText)\"")) }
        do throws(MessageFormatError) {
            return .success((at, try ProducerMessage.parse(.object(fields.filter { $0.0 != "at" }))))
        } catch {
            return .failure(Reason(reason: "\(error.code): \(error.message)"))
        }
    }
}
