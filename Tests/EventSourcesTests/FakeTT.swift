@testable import EventSources
import Foundation
import Synchronization

/// A scripted TT REST API on loopback: issues tokens, serves fills in pages (always claiming
/// `lastPage: true`, which the poller must not trust), serves working orders in pages keyed by
/// `nextPageKey` (also always claiming `lastPage: true`), and injects faults on request.
final class FakeTT: Sendable {
    enum Fault: Sendable {
        case status(Int, retryAfter: String? = nil)
        case malformed
        /// Answers only after this many seconds (longer than the client waits: a timeout).
        case delay(seconds: Int)
        /// Every token is revoked just before this request is checked (it answers 401).
        case revokeTokens
    }

    /// How the orders pages say what follows them.
    enum OrderPaging: Sendable {
        /// `nextPageKey` while orders remain (keyset: the last orderId on the page; the next page
        /// lists what follows it in the list as it is then), and `lastPage: "true"` on every page,
        /// as TT is reported to answer.
        case keyed
        /// A fresh `nextPageKey` on every page, forever (the page lists the first orders again).
        case neverEnds
        /// Page 2 gives the same `nextPageKey` as page 1.
        case repeatsKey
        /// `lastPage: "false"` and no `nextPageKey` after page 1.
        case moreWithoutKey
    }

    struct State {
        var fills: [(timeStamp: Int64, json: String)] = []
        /// The orders `GET …/orders` lists, by orderId (in id order unless `orderSequence` is set).
        var orders: [String: String] = [:]
        /// The order the list is in, when not by id (it names every order).
        var orderSequence: [String]?
        /// The list's order changes (once) just before the request for this page is answered: how
        /// TT's live list moves under a poll that is between pages.
        var orderSequenceChange: (beforePage: Int, sequence: [String])?
        /// Orders per page (nil: every order on one page).
        var orderPageSize: Int?
        var orderPaging = OrderPaging.keyed
        /// A fault served once, to the request for that orders page (1-based).
        var orderPageFaults: [(page: Int, fault: Fault)] = []
        /// The page each `nextPageKey` handed out leads to (a retried request asks for the same page).
        var orderPageOfKey: [String: Int] = [:]
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

    /// TT's `orderStatus` numbering (its order enums.proto), as the monitor reads it.
    enum Status {
        static let new = "1", partiallyFilled = "2", filled = "3", canceled = "5", rejected = "8", expired = "12"
    }

    /// An order as TT lists it, with the fields and number forms of a real reply (`orderQty`,
    /// `leavesQuantity`, `cumulatedQuantity` as `5.0`). `filled` defaults to qty − leaves.
    func setOrder(_ orderId: String, account: String = "12345", instrument: String = "INS1", side: String = "1",
                  qty: Int64, leaves: Int64, filled: Int64? = nil, px: String, status: String = Status.new) {
        let json = #"{"orderId":"\#(orderId)","accountId":\#(account),"instrumentId":"\#(instrument)","side":"\#(side)","orderQty":\#(qty).0,"leavesQuantity":\#(leaves).0,"cumulatedQuantity":\#(filled ?? qty - leaves).0,"price":\#(px),"orderStatus":"\#(status)","orderType":"2","timeInForce":"1"}"#
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

    /// The page an orders request asks for: 1 without a key, else the one its key leads to.
    private static func orderPage(of request: FakeHTTPServer.Request, state: State) -> Int {
        request.query["nextPageKey"].map { state.orderPageOfKey[$0] ?? 2 } ?? 1
    }

    /// The fault scripted for the page a request asks for, if any (served once).
    private static func takeOrderPageFault(for request: FakeHTTPServer.Request, state: inout State) -> Fault? {
        let page = orderPage(of: request, state: state)
        guard let index = state.orderPageFaults.firstIndex(where: { $0.page == page }) else { return nil }
        return state.orderPageFaults.remove(at: index).fault
    }

    private static func ordersPage(_ request: FakeHTTPServer.Request, state: inout State) -> FakeHTTPServer.Response {
        let page = orderPage(of: request, state: state)
        func handOut(_ key: String) -> String {
            state.orderPageOfKey[key] = page + 1
            return key
        }
        if let change = state.orderSequenceChange, change.beforePage == page {
            state.orderSequence = change.sequence
            state.orderSequenceChange = nil
        }
        let ids = state.orderSequence?.filter { state.orders[$0] != nil } ?? state.orders.keys.sorted()
        let size = state.orderPageSize ?? max(1, ids.count)
        let key = request.query["nextPageKey"]
        let remaining: ArraySlice<String>
        switch state.orderPaging {
        case .neverEnds, .repeatsKey: remaining = ids[...]
        case .keyed, .moreWithoutKey:
            // After the key's place in the list; a key whose order has left: after it by id.
            remaining = key.map { after in ids.firstIndex(of: after).map { ids[($0 + 1)...] } ?? ids.drop { $0 <= after } } ?? ids[...]
        }
        let listed = remaining.prefix(size)
        let body = "[" + listed.map { state.orders[$0]! }.joined(separator: ",") + "]"
        switch state.orderPaging {
        case .keyed:
            guard remaining.count > size, let last = listed.last else { return .json(#"{"lastPage":"true","orders":\#(body)}"#) }
            return .json(#"{"lastPage":"true","nextPageKey":"\#(handOut(last))","orders":\#(body)}"#)
        case .neverEnds:
            return .json(#"{"lastPage":"false","nextPageKey":"\#(handOut("k\(page)"))","orders":\#(body)}"#)
        case .repeatsKey:
            return .json(#"{"lastPage":"false","nextPageKey":"\#(handOut("same-key"))","orders":\#(body)}"#)
        case .moreWithoutKey:
            return .json(#"{"lastPage":"false","orders":\#(body)}"#)
        }
    }

    private static let delayHeader = "X-Fake-Delay"

    private static func respond(to request: FakeHTTPServer.Request, book: Book) -> FakeHTTPServer.Response {
        let response = scriptedResponse(to: request, book: book)
        if let seconds = response.headers[delayHeader].flatMap(Int.init) { Thread.sleep(forTimeInterval: TimeInterval(seconds)) }
        return response
    }

    private static func scriptedResponse(to request: FakeHTTPServer.Request, book: Book) -> FakeHTTPServer.Response {
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
            if isOrders, let fault = takeOrderPageFault(for: request, state: &state) {
                switch fault {
                case .revokeTokens: state.valid.removeAll()
                case .delay(let seconds):
                    // Answered after the lock is released, so the test can script the next state meanwhile.
                    return FakeHTTPServer.Response(status: 504, headers: [delayHeader: String(seconds)], body: "{}")
                case .status(let code, let retryAfter):
                    return FakeHTTPServer.Response(status: code, headers: retryAfter.map { ["Retry-After": $0] } ?? [:], body: "{}")
                case .malformed: return .json(#"{"lastPage":"true","orders":[{"orderId": "#)
                }
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
                case .delay, .revokeTokens:
                    return .json("{}", status: 500)   // scripted for orders pages only
                }
            }
            if isPositions { return .json(#"{"positions":[\#(state.positions.joined(separator: ","))]}"#) }
            if isOrders { return ordersPage(request, state: &state) }
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
