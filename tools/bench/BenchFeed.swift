import Bytes
import Foundation

/// A recorded feed (`{"at":…, <producer message>}` per line) turned into producer messages the
/// bench can send again and again: fills get a fresh execId per event (`<runTag>-<event index>`) so
/// every run and every loop over the file is new to the server, and a delivery names its event.
struct BenchFeed: Sendable {
    enum Line: Sendable {
        /// The message bytes before and after the execId value.
        case fill(before: [UInt8], after: [UInt8])
        case mark([UInt8])
    }

    let lines: [Line]
    let fillCount: Int
    /// Each line's recorded time (`at`) in nanoseconds after the first kept line's; nil when a
    /// line has no readable `at` (then `--pace recorded` cannot be used).
    let offsets: [Int64]?

    static let defaultPath = "tools/feeds/sample-day.ndjson"

    /// The sample day relative to the working directory, else to the nearest ancestor of the
    /// executable that has it (so a bench binary under .build or /tmp still finds its checkout).
    static func locateDefault() -> String {
        if FileManager.default.fileExists(atPath: defaultPath) { return defaultPath }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = directory.appendingPathComponent(defaultPath).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return defaultPath
    }

    /// Fills always; marks too when `includeMarks` (they load the ledger but reach no `fills` subscriber).
    /// SOD, busts and corrections are left out: they refer to state a replay at another rate would not have.
    static func load(path: String, includeMarks: Bool) throws -> BenchFeed {
        try parse(text: try String(contentsOfFile: path, encoding: .utf8), includeMarks: includeMarks)
    }

    static func parse(text: String, includeMarks: Bool) throws -> BenchFeed {
        var lines: [Line] = []
        var fills = 0
        var times: [Int64?] = []
        for raw in text.split(separator: "\n") where raw.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any],
                  let type = object["type"] as? String,
                  let typeStart = raw.range(of: "\"type\"") else { continue }
            // Drop the recording's `at` (and anything before `type`): the server stamps receipt time.
            let message = "{" + raw[typeStart.lowerBound...]
            switch type {
            case "fill":
                guard let execId = object["execId"] as? String,
                      let value = message.range(of: "\"execId\":\"\(execId)\"") else { continue }
                let before = message[..<value.lowerBound] + "\"execId\":\""
                let after = "\"" + message[value.upperBound...]
                lines.append(.fill(before: Array(before.utf8), after: Array(after.utf8)))
                fills += 1
            case "mark" where includeMarks:
                lines.append(.mark(Array(message.utf8)))
            default:
                continue
            }
            times.append((object["at"] as? String).flatMap(parseISO8601))
        }
        guard !lines.isEmpty else { throw BenchFeedError(errorDescription: "no fill lines (one compact JSON producer message per line, with \"type\" and \"execId\")") }
        var offsets: [Int64]? = nil
        if let first = times.first ?? nil, times.allSatisfy({ $0 != nil }) {
            // A recording is in time order; a line stamped earlier than the one before it is
            // sent right after it (the schedule never runs backwards).
            var last: Int64 = 0
            offsets = times.map { time in
                last = max(last, time! - first)
                return last
            }
        }
        return BenchFeed(lines: lines, fillCount: fills, offsets: offsets)
    }

    func isFill(event index: Int) -> Bool {
        if case .fill = lines[index % lines.count] { return true }
        return false
    }

    /// The producer message of event `index` (the file repeats as often as the run needs).
    func payload(event index: Int, runTag: [UInt8]) -> [UInt8] {
        switch lines[index % lines.count] {
        case .mark(let bytes):
            return bytes
        case .fill(let before, let after):
            var bytes = before
            bytes.reserveCapacity(before.count + runTag.count + 12 + after.count)
            bytes.append(contentsOf: runTag)
            bytes.append(UInt8(ascii: "-"))
            appendDecimal(index, to: &bytes)
            bytes.append(contentsOf: after)
            return bytes
        }
    }
}

func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
    if value >= 10 { appendDecimal(value / 10, to: &bytes) }
    bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
}

/// A short random tag that makes this run's execIds unique, e.g. `B3f9a1c`.
func makeRunTag() -> String {
    "B" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
}

/// Why a feed file cannot be used, as one line.
struct BenchFeedError: LocalizedError {
    var errorDescription: String?
}
