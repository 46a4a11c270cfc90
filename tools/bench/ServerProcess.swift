import Foundation

/// Samples of the server process under test from /proc: CPU time and resident memory.
struct ServerProcess {
    let pid: Int

    /// utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat, after the command name).
    func cpuTicks() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ")": state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    static var ticksPerSecond: Int { Int(sysconf(Int32(_SC_CLK_TCK))) }

    /// VmRSS in kibibytes.
    func residentKiB() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).filter(\.isNumber))
        }
        return nil
    }

    static func from(_ options: BenchOptions) -> ServerProcess? {
        guard options.string("server-pid") != nil else { return nil }
        return ServerProcess(pid: options.int("server-pid", default: 0, minimum: 1))
    }
}

/// CPU seconds (user + system) this bench process has used so far: when the client, not the
/// server, runs out of CPU on a shared machine, the report has to say so.
func benchCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
