import Foundation

/// What every report states so a figure can be reproduced: the exact command, the build mode, the
/// durability setting of the server, the machine and the date.
struct RunDescription {
    var command: String
    var build: String
    var durability: String
    var cpuModel: String
    var cores: Int
    var date: String
    /// Other work on the machine (1/5/15-minute load averages) at the start: a shared VM's tails depend on it.
    var loadAverage: String

    init(options: BenchOptions) {
        command = CommandLine.arguments.joined(separator: " ")
        #if DEBUG
        let benchBuild = "debug"
        #else
        let benchBuild = "release"
        #endif
        // The server's build cannot be asked over the wire; `--build` states it, else the bench's own.
        build = options.string("build") ?? benchBuild
        durability = options.string("durability") ?? "unstated"
        cpuModel = Self.cpuModel()
        cores = ProcessInfo.processInfo.activeProcessorCount
        let formatter = ISO8601DateFormatter()
        date = formatter.string(from: Date())
        let loads = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3) ?? []
        loadAverage = loads.joined(separator: " ")
    }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    var textLines: [String] {
        ["command:    \(command)",
         "build:      \(build)   durability: \(durability)",
         "machine:    \(cores) cores, \(cpuModel)",
         "date:       \(date)   load average: \(loadAverage)"]
    }

    var jsonFields: [(String, Any)] {
        [("command", command), ("build", build), ("durability", durability),
         ("cores", cores), ("cpu", cpuModel), ("date", date), ("load_average", loadAverage)]
    }
}

/// Prints a report as aligned text, or as one JSON object with `--json`.
struct BenchReport {
    var run: RunDescription
    var fields: [(String, Any)] = []

    mutating func add(_ name: String, _ value: Any) { fields.append((name, value)) }

    func print(json: Bool) {
        if json {
            var object: [String: Any] = [:]
            for (name, value) in run.jsonFields + fields { object[name] = value }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                Swift.print(String(decoding: data, as: UTF8.self))
            }
        } else {
            for line in run.textLines { Swift.print(line) }
            for (name, value) in fields {
                Swift.print("\(name):".padding(toLength: 32, withPad: " ", startingAt: 0) + " \(value)")
            }
        }
    }
}

/// Percentiles of a histogram of nanoseconds, in microseconds.
func latencyFields(_ prefix: String, _ histogram: LatencyHistogram) -> [(String, Any)] {
    func micros(_ nanos: UInt64) -> Double { (Double(nanos) / 100).rounded() / 10 }
    return [("\(prefix)_count", Int(histogram.totalCount)),
            ("\(prefix)_p50_us", micros(histogram.value(atFraction: 0.50))),
            ("\(prefix)_p90_us", micros(histogram.value(atFraction: 0.90))),
            ("\(prefix)_p99_us", micros(histogram.value(atFraction: 0.99))),
            ("\(prefix)_p999_us", micros(histogram.value(atFraction: 0.999))),
            ("\(prefix)_max_us", micros(histogram.totalCount == 0 ? 0 : histogram.maximum))]
}
