@testable import EventSources
import Foundation
import Synchronization

/// A scripted TT REST API on loopback: issues tokens, serves fills in pages (always claiming
/// `lastPage: true`, which the poller must not trust), and injects faults on request.
final class FakeTT: Sendable {
    enum Fault: Sendable {
        case status(Int, retryAfter: String? = nil)
        case malformed
    }

    struct State {
        var fills: [(timeStamp: Int64, json: String)] = []
        /// The orders `GET …/orders` lists, by orderId (in id order).
        var orders: [String: String] = [:]
        /// The positions `GET /ttmonitor/…/position` lists.
        var positions: [String] = []
        var pageSize = 3
        var tokenLifetimeSeconds = 3600
        var issued: [String] = []
        var valid: Set<String> = []
        /// Applied to the next fills requests, in order.
        var faults: [Fault] = []
        /// Windows wider than this are answered 408.
        var maxWindow: Int64?
        /// Refuse every token (to test "still 401 after a refresh").
        var refuseAllTokens = false
    }

    /// The scripted state, shared with the server thread.
    final class Book: Sendable {
        let state = Mutex(State())
    }

    let book = Book()
    let server: FakeHTTPServer

    init() throws {
        let book = self.book
        server = try FakeHTTPServer { request, _ in FakeTT.respond(to: request, book: book) }
    }

    func update(_ change: (inout State) -> Void) { book.state.withLock { change(&$0) } }

    func stop() { server.stop() }

    func addFill(timeStamp: Int64, execId: String, account: String = "12345", instrument: String = "INS1",
                 side: String = "\"1\"", qty: String = "2", px: String = "110.265625", extra: String = "") {
        let json = #"{"timeStamp":"\#(timeStamp)","transactTime":\#(timeStamp - 5_000_000),"uniqueExecId":"\#(execId)","execId":"x\#(execId)","accountId":\#(account),"instrumentId":"\#(instrument)","side":\#(side),"lastQty":\#(qty),"lastPx":\#(px),"ordStatus":"2"\#(extra)}"#
        book.state.withLock { $0.fills.append((timeStamp, json)) }
    }

    /// An order as TT lists it: `status` "1" working, "2" filled, "4" cancelled, "8" rejected.
    func setOrder(_ orderId: String, account: String = "12345", instrument: String = "INS1", side: String = "1",
                  qty: Int64, leaves: Int64, px: String, status: String = "1") {
        let json = #"{"orderId":"\#(orderId)","accountId":\#(account),"instrumentId":"\#(instrument)","side":"\#(side)","orderQty":\#(qty),"leavesQuantity":\#(leaves),"cumQty":\#(qty - leaves),"price":\#(px),"orderStatus":"\#(status)"}"#
        book.state.withLock { $0.orders[orderId] = json }
    }

    func setPositions(_ lines: [(account: String, instrument: String, net: Int64, bought: Int64, sold: Int64, sod: Int64)]) {
        let json = lines.map { line in
            #"{"accountId":\#(line.account),"instrumentId":"\#(line.instrument)","netPosition":\#(line.net),"buyFillQty":\#(line.bought),"sellFillQty":\#(line.sold),"sodNetPos":\#(line.sod),"pnl":0,"realizedPnl":0}"#
        }
        book.state.withLock { $0.positions = json }
    }

    var positionRequests: [FakeHTTPServer.Request] { server.requests.filter { $0.path.hasSuffix("/position") } }

    func removeOrder(_ orderId: String) { book.state.withLock { $0.orders[orderId] = nil } }

    var orderRequests: [FakeHTTPServer.Request] { server.requests.filter { $0.path.hasSuffix("/orders") } }

    func revokeTokens() { book.state.withLock { $0.valid.removeAll() } }

    var tokenRequests: [FakeHTTPServer.Request] { server.requests.filter { $0.path.hasSuffix("/token") } }
    var fillRequests: [FakeHTTPServer.Request] { server.requests.filter { $0.path.hasSuffix("/fills") } }

    private static func respond(to request: FakeHTTPServer.Request, book: Book) -> FakeHTTPServer.Response {
        book.state.withLock { state -> FakeHTTPServer.Response in
            if request.path == "/ttid/ext_uat_cert/token" {
                guard request.method == "POST", request.headers["x-api-key"] == "app-key",
                      request.body == "grant_type=user_app&app_key=app-key:app-secret" else {
                    return .json(#"{"error":"bad credentials"}"#, status: 401)
                }
                let token = "T\(state.issued.count + 1)"
                state.issued.append(token)
                state.valid.insert(token)
                return .json(#"{"access_token":"\#(token)","token_type":"bearer","seconds_until_expiry":\#(state.tokenLifetimeSeconds)}"#)
            }
            let isOrders = request.path == "/ttledger/ext_uat_cert/orders"
            let isPositions = request.path == "/ttmonitor/ext_uat_cert/position"
            guard request.path == "/ttledger/ext_uat_cert/fills" || isOrders || isPositions, request.method == "GET" else {
                return .json("{}", status: 404)
            }
            let bearer = request.headers["authorization"].map { String($0.dropFirst("Bearer ".count)) } ?? ""
            guard request.headers["x-api-key"] == "app-key", !state.refuseAllTokens, state.valid.contains(bearer) else {
                return .json(#"{"status":"Unauthorized"}"#, status: 401)
            }
            if !state.faults.isEmpty {
                switch state.faults.removeFirst() {
                case .status(let code, let retryAfter):
                    return FakeHTTPServer.Response(status: code, headers: retryAfter.map { ["Retry-After": $0] } ?? [:], body: "{}")
                case .malformed:
                    return .json(#"{"fills":[{"timeStamp": 1,"#)
                }
            }
            if isPositions { return .json(#"{"positions":[\#(state.positions.joined(separator: ","))]}"#) }
            if isOrders {
                let listed = state.orders.keys.sorted().map { state.orders[$0]! }
                return .json(#"{"lastPage":"true","orders":[\#(listed.joined(separator: ","))]}"#)
            }
            guard let low = request.query["minTimestamp"].flatMap({ Int64($0) }),
                  let high = request.query["maxTimestamp"].flatMap({ Int64($0) }) else {
                return .json(#"{"error":"bad window"}"#, status: 400)
            }
            if let maxWindow = state.maxWindow, high - low > maxWindow { return .json("{}", status: 408) }
            let page = state.fills.filter { $0.timeStamp >= low && $0.timeStamp <= high }
                .sorted { $0.timeStamp < $1.timeStamp }.prefix(state.pageSize)
            return .json(#"{"lastPage":"true","fills":[\#(page.map(\.json).joined(separator: ","))]}"#)
        }
    }
}
