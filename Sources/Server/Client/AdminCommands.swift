import Bytes
import Foundation
import Synchronization
import JSON
import Ledger
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Command-line clients of a running server: `mark`, `day-roll`, `record`.
enum AdminCommands {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// POSTs JSON and returns (status, body). Blocking; for the command line only.
    static func post(_ url: String, body: String, token: String?) throws(Failure) -> (Int, String) {
        guard let target = URL(string: url) else { throw Failure(description: "bad URL '\(url)'") }
        var request = URLRequest(url: target)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<(status: Int, body: String, error: String?)>((0, "", nil))
        URLSession.shared.dataTask(with: request) { data, response, error in
            answer.withLock {
                $0 = ((response as? HTTPURLResponse)?.statusCode ?? 0, data.map { String(decoding: $0, as: UTF8.self) } ?? "",
                      error.map { "\($0.localizedDescription)" })
            }
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 30) == .success else { throw Failure(description: "no answer from \(url) in 30 s") }
        let (status, body, error) = answer.withLock { $0 }
        if let error { throw Failure(description: "\(url): \(error)") }
        return (status, body)
    }

    /// `ladderwire mark ZNZ6 110-08+`: a manual mark, validated and journaled like any mark.
    static func mark(server: String, instrument: String, price: String, token: String?) throws(Failure) -> Int32 {
        let message = JSONValue.array([.object([("type", .string("mark")), ("instrument", .string(instrument)), ("price", .string(price))])])
        let (status, body) = try post(server + "/api/fills", body: message.serialized, token: token)
        if status == 200 { writeLine(body); return 0 }
        throw Failure(description: "mark refused (\(status)): \(body)")
    }

    /// `ladderwire day-roll`: carries positions to the next trading day.
    static func dayRoll(server: String, token: String?) throws(Failure) -> Int32 {
        let (status, body) = try post(server + "/api/dayroll", body: "", token: token)
        if status == 200 { writeLine(body); return 0 }
        throw Failure(description: "day roll refused (\(status)): \(body)")
    }

    /// `ladderwire record --url ws://… --out FILE`: subscribes and writes what it sees as a feed
    /// file the replay source accepts (positions as SOD lines first, then fills, busts,
    /// corrections and marks in seq order), until the server closes or `--count` events.
    static func record(url: String, out: String, token: String?, count: Int?) throws(Failure) -> Int32 {
        var target = url
        if !target.contains("/ws") { target += "/ws" }
        target += (target.contains("?") ? "&" : "?") + "channels=fills,marks,positions"
        var headers: [String: String] = [:]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        let client: BlockingWebSocketClient
        do { client = try BlockingWebSocketClient(url: target, headers: headers) } catch { throw Failure(description: error.description) }
        guard FileManager.default.createFile(atPath: out, contents: nil), let file = FileHandle(forWritingAtPath: out) else {
            throw Failure(description: "cannot write \(out)")
        }
        defer { try? file.close() }
        func emit(_ fields: [(String, JSONValue)]) {
            file.write(Data((JSONValue.object(fields).serialized + "\n").utf8))
        }
        file.write(Data("# recorded by ladderwire record from \(url)\n".utf8))
        var recorded = 0
        let meter = ProgressMeter("record", unit: "events", total: count, write: writeError)
        while true {
            meter.update(recorded)
            let text: String?
            do { text = try client.nextText() } catch { break }
            guard let text, let message = try? JSONValue.parse(text), let type = message["type"]?.stringValue else { break }
            let at = message["time"] ?? .string(isoString(Int64(Date().timeIntervalSince1970 * 1e9)))
            switch type {
            case "snapshot":
                if case .array(let positions)? = message["positions"] {
                    for position in positions {
                        // SOD at the position's mark: it is on the tick grid (an average price
                        // usually is not, and the replay would refuse it). A recording
                        // reproduces positions and what follows, not the P&L made before it.
                        let mark = position["markDecimal"].flatMap { $0 == .null ? nil : $0 }
                        guard let net = position["net"]?.intValue, net != 0,
                              let price = mark ?? position["avgPriceDecimal"], price != .null else { continue }
                        emit([("at", message["time"] ?? .null), ("type", .string("sod")), ("account", position["account"] ?? .null),
                              ("instrument", position["instrument"] ?? .null), ("qty", .int(net)), ("price", price)])
                    }
                }
                if case .array(let marks)? = message["marks"] {
                    for mark in marks {
                        emit([("at", message["time"] ?? .null), ("type", .string("mark")), ("instrument", mark["instrument"] ?? .null),
                              ("price", mark["priceDecimal"] ?? .null)])
                    }
                }
            case "fill":
                switch message["status"]?.stringValue {
                case "busted":
                    emit([("at", at), ("type", .string("bust")), ("execId", message["execId"] ?? .null)])
                case "corrected":
                    emit([("at", at), ("type", .string("correct")), ("execId", message["execId"] ?? .null),
                          ("qty", message["qty"] ?? .null), ("price", message["priceDecimal"] ?? .null)])
                default:
                    emit([("at", at), ("type", .string("fill")), ("execId", message["execId"] ?? .null),
                          ("account", message["account"] ?? .null), ("instrument", message["instrument"] ?? .null),
                          ("side", message["side"] ?? .null), ("qty", message["qty"] ?? .null),
                          ("price", message["priceDecimal"] ?? .null), ("time", at)])
                }
                recorded += 1
            case "mark":
                emit([("at", at), ("type", .string("mark")), ("instrument", message["instrument"] ?? .null),
                      ("price", message["priceDecimal"] ?? .null), ("time", at)])
                recorded += 1
            default:
                continue
            }
            if let count, recorded >= count { break }
        }
        meter.finish(recorded)
        writeError("recorded \(recorded) events to \(out)")
        return 0
    }
}
