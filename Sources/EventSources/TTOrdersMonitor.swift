import Bytes
import JSON
import Ledger
import Synchronization
import Wire

/// Polls TT's working orders (`ttorders` source): every `pollSeconds`, `GET
/// /ttledger/{env}/orders`, every page of it (below), keeps the orders TT reports working
/// (`orderStatus` "1" new or "2" partially filled, or "6"/"14" pending cancel/replace, still on the
/// book) with `leavesQuantity` > 0, and turns the difference from the working set it last stored
/// into order messages — `new` for an order it has not seen, `replace` when its price or total
/// quantity changed, `cancel` (or `reject` for `orderStatus` "8") when it left the working set —
/// each with the next version of that order. An order that left because it filled (`orderStatus`
/// "3", or cumulated quantity reaching the order quantity) gets no message: the fill poller's
/// fills name it and fill it.
///
/// Absence is authoritative only when the whole working set came in one page. TT pages a live
/// list, so an order that moves across a page boundary while a poll is between pages can be missing
/// from that poll although it still works; a wrong `cancel` could not be repaired later (its `new`
/// would be a duplicate). So when a poll read more than one page, an order it did not find at all
/// is cancelled only if the next complete poll does not find it either (`missedOnce`, in memory: a
/// restart forgets it, and the first such miss after a restart waits one more poll). An order TT
/// lists with a status that is not working — filled, rejected, cancelled, expired — is not a miss:
/// TT said so, and today's rules apply at once. The price: a cancel in a multi-page working set
/// shows one poll later.
///
/// Paging: TT's list endpoints answer `lastPage` and, when there is more, `nextPageKey`, which is
/// sent back as the `nextPageKey` query parameter. A poll reads every page before it diffs: one
/// page missing would make every order on it look cancelled. So a page that fails (HTTP error,
/// timeout, malformed body) fails the whole poll, and so does paging that cannot be followed to
/// its end (`lastPage` "false" without a key, a key seen before in the same poll, or more than
/// `maxPagesPerPoll` pages); nothing is submitted and the cursor stays. `lastPage` "true" is not
/// trusted to end the read while a key is given and the page was not empty (it is reported to be
/// "true" on every fills page).
///
/// The working set it diffs against is its cursor, stored with the messages in the same
/// transaction: after a restart (or a failed commit, which stores neither) it diffs against
/// exactly what the server holds, so no change is lost or sent twice. Same token manager, rate
/// limit, backoff and error rules as the fill poller (`TTFillPoller`).
public final class TTOrdersMonitor: Monitor {
    public let name: String
    private let config: TTConfig
    private let transport: any OutboundHTTP
    private let clock: any MonitorClock
    private let catalogSymbols: [String: String]
    private let rateLimit: TokenBucket
    public let tokens: TTTokenManager
    private let jitter: Mutex<SeededRandom>
    private let counts = Mutex(SubmissionCounts())
    private let submitTimeoutSeconds: Int
    private let maxPagesPerPoll: Int
    /// Stored orders the last successful poll, a multi-page one, did not find on any page. Kept in
    /// the cursor (no message yet); cancelled if the next complete poll does not find them either.
    private let missedOnce = Mutex(Set<String>())

    /// Pages one poll may read before it gives up (at TT's ~500 orders a page, 25,000 working
    /// orders): a server that keeps saying "more" must not hold the monitor in one poll forever.
    public static let defaultMaxPagesPerPoll = 50

    /// One order as last sent: what a later poll is compared with.
    public struct Known: Sendable, Equatable {
        public var orderId: String
        public var version: Int64
        public var account: String
        public var instrument: String
        public var side: String
        public var qty: Int64
        /// Exact decimal text.
        public var price: String
    }

    public struct PollSummary: Sendable, Equatable {
        /// Pages read (requests that answered 2xx).
        public var pages = 0
        public var working = 0
        public var new = 0
        public var replaced = 0
        public var ended = 0
        /// Stored orders this poll did not find, kept until the next complete poll confirms it.
        public var missedOnce = 0
        public var skipped: [String] = []
    }

    /// `rateLimit` and `tokens` are shared with the fill poller when both run (one plan limit,
    /// one token).
    public init(config: TTConfig, name: String = "ttorders", transport: any OutboundHTTP = URLSessionTransport(),
                clock: any MonitorClock = SystemClock(), catalogSymbols: [String: String] = [:],
                rateLimit: TokenBucket? = nil, tokens: TTTokenManager? = nil,
                jitterSeed: UInt64 = UInt64.random(in: 0...UInt64.max), submitTimeoutSeconds: Int = 30,
                maxPagesPerPoll: Int = TTOrdersMonitor.defaultMaxPagesPerPoll) {
        self.name = name
        self.config = config
        self.transport = transport
        self.clock = clock
        self.catalogSymbols = catalogSymbols
        let bucket = rateLimit ?? TokenBucket(ratePerSecond: config.requestsPerSecond, burst: 1, clock: clock)
        self.rateLimit = bucket
        self.tokens = tokens ?? TTTokenManager(config: config, transport: transport, clock: clock, rateLimit: bucket)
        self.jitter = Mutex(SeededRandom(seed: jitterSeed))
        self.submitTimeoutSeconds = submitTimeoutSeconds
        self.maxPagesPerPoll = max(1, maxPagesPerPoll)
    }

    public var submissionCounts: SubmissionCounts { counts.withLock { $0 } }

    public func run(sink: any MessageSink, status: any MonitorStatusSink, stopping: StopSignal) throws {
        try runTTPollLoop(config: config, clock: clock, jitter: jitter, status: status, stopping: stopping, poll: { () throws(TTError) in
            let summary = try pollOnce(sink: sink, stopping: stopping)
            let problem = summary.skipped.last.map { "skipped \(summary.skipped.count) order(s): \($0)" }
                ?? counts.withLock { $0.lastRejection }.map { "rejected \($0)" }
            return MonitorStatus(name: name, state: .running, lastError: problem)
        }, degraded: { error, lastSuccess in
            MonitorStatus(name: name, state: .degraded, lastError: error.description, lastSuccess: lastSuccess)
        })
    }

    /// One poll: the working set now (every page), diffed against the stored one, submitted with
    /// the new set as the cursor. Public so tests can drive single cycles.
    public func pollOnce(sink: any MessageSink, stopping: StopSignal) throws(TTError) -> PollSummary {
        var known = try Self.decode(cursor: sink.cursor(named: name))
        let (page, pagesRead) = try readEveryPage(stopping: stopping)
        var summary = PollSummary(pages: pagesRead, working: page.working.count, skipped: page.skipped)
        var messages: [ProducerMessage] = []
        for order in page.working {
            if var previous = known[order.orderId] {
                guard previous.qty != order.qty || previous.price != order.price else { continue }
                previous.version += 1
                previous.qty = order.qty
                previous.price = order.price
                known[order.orderId] = previous
                messages.append(.order(OrderMessage(action: .replace, orderId: order.orderId, version: previous.version,
                                                    qty: order.qty, price: order.price)))
                summary.replaced += 1
            } else {
                known[order.orderId] = Known(orderId: order.orderId, version: 1, account: order.account,
                                             instrument: order.instrument, side: order.side, qty: order.qty, price: order.price)
                messages.append(.order(OrderMessage(action: .new, orderId: order.orderId, version: 1, account: order.account,
                                                    instrument: order.instrument, side: order.side, qty: order.qty,
                                                    price: order.price)))
                summary.new += 1
            }
        }
        let working = Set(page.working.map(\.orderId))
        // One page is the whole list at one moment; over several, the list may have moved under
        // the read, so an order on none of them may only have been between pages.
        let absenceIsAuthoritative = pagesRead == 1
        let missedBefore = missedOnce.withLock { $0 }
        var missedNow = Set<String>()
        for orderId in known.keys.sorted() where !working.contains(orderId) {
            if !page.listed.contains(orderId) && !absenceIsAuthoritative && !missedBefore.contains(orderId) {
                missedNow.insert(orderId)
                continue
            }
            let previous = known.removeValue(forKey: orderId)!
            // Filled orders end through their fills; anything else that left was cancelled or rejected.
            if page.filled.contains(orderId) { continue }
            let action: OrderEvent.Action = page.rejected.contains(orderId) ? .reject : .cancel
            messages.append(.order(OrderMessage(action: action, orderId: orderId, version: previous.version + 1)))
            summary.ended += 1
        }
        summary.missedOnce = missedNow.count
        let cursor = Self.encode(known)
        // Nothing changed: nothing to store (the cursor is already this set).
        guard !messages.isEmpty || cursor != (sink.cursor(named: name) ?? Self.encode([:])) else {
            missedOnce.withLock { $0 = missedNow }
            return summary
        }
        let results: [SubmitResult]
        do {
            results = try submitAndWait(messages, to: sink, source: name, cursor: (name, cursor), timeoutSeconds: submitTimeoutSeconds)
        } catch {
            throw .network(error.description)
        }
        // Not stored: neither was the cursor; the next poll diffs against the old set again.
        if let failure = results.storageFailure { throw .storage(failure) }
        // Only once stored: after a failed read or commit the misses stay as they were, so a
        // confirmed miss whose cancel was not stored is still confirmed by the next poll.
        missedOnce.withLock { $0 = missedNow }
        counts.withLock { $0.add(results, refs: messages.map(\.ref)) }
        return summary
    }

    /// The working set as TT lists it, every page merged; throws (so nothing is diffed) unless the
    /// read reached the last page.
    func readEveryPage(stopping: StopSignal) throws(TTError) -> (TTOrderPage, pages: Int) {
        var merged = TTOrderPage()
        var pageKey: String?
        var keysFollowed = Set<String>()
        for pageNumber in 1...maxPagesPerPoll {
            if stopping.isStopped { throw .stopped }
            let reply = try tokens.authorizedGet("ttledger/\(config.environment)/orders",
                                                 query: pageKey.map { "nextPageKey=\(formEncoded($0))" } ?? "",
                                                 what: "orders", transport: transport, rateLimit: rateLimit, stopping: stopping)
            guard (200..<300).contains(reply.status) else {
                throw .status(code: reply.status, retryAfterSeconds: retryAfter(reply),
                              detail: "orders page \(pageNumber): " + String(reply.body.prefix(200)))
            }
            let page: TTOrderPage
            do { page = try TTOrderMapping.page(from: reply.body, config: config, catalogSymbols: catalogSymbols) } catch {
                if case .malformedReply(let detail) = error { throw .malformedReply("orders page \(pageNumber): \(detail)") }
                throw error
            }
            merged.absorb(page)
            switch page.continuation {
            case .lastPage:
                return (merged, pageNumber)
            case .next(let key):
                guard keysFollowed.insert(key).inserted else {
                    throw .incompletePages("orders page \(pageNumber) gave nextPageKey '\(key.prefix(40))' again (paging would loop)")
                }
                pageKey = key
            case .moreWithoutKey:
                throw .incompletePages("orders page \(pageNumber) says lastPage \"false\" but gives no nextPageKey")
            }
        }
        throw .incompletePages("orders still had a nextPageKey after \(maxPagesPerPoll) pages (the most one poll reads)")
    }

    // MARK: The cursor: the working set as last stored

    static func encode(_ known: [String: Known]) -> String {
        JSONValue.array(known.keys.sorted().map { id in
            let order = known[id]!
            return .object([("id", .string(id)), ("v", .int(order.version)), ("a", .string(order.account)),
                            ("i", .string(order.instrument)), ("s", .string(order.side)), ("q", .int(order.qty)),
                            ("p", .string(order.price))])
        }).serialized
    }

    static func decode(cursor: String?) throws(TTError) -> [String: Known] {
        guard let cursor else { return [:] }
        guard case .array(let items)? = try? JSONValue.parse(cursor) else {
            throw .notConfigured("stored cursor is not a TT working-order set")
        }
        var known: [String: Known] = [:]
        for item in items {
            guard let id = item["id"]?.stringValue, let version = item["v"]?.intValue, let account = item["a"]?.stringValue,
                  let instrument = item["i"]?.stringValue, let side = item["s"]?.stringValue, let qty = item["q"]?.intValue,
                  let price = item["p"]?.stringValue else {
                throw .notConfigured("stored cursor has an unreadable order")
            }
            known[id] = Known(orderId: id, version: version, account: account, instrument: instrument, side: side,
                              qty: qty, price: price)
        }
        return known
    }
}

/// One reply (page) of `GET /ttledger/{env}/orders`, mapped; or several pages merged.
struct TTOrderPage {
    struct Working: Equatable {
        var orderId: String
        var account: String
        var instrument: String
        var side: String
        /// Total order quantity (`orderQty`, else leaves + cumulated).
        var qty: Int64
        var price: String
    }

    /// What the page says about the pages after it.
    enum Continuation: Equatable {
        case lastPage
        /// Ask again with `nextPageKey` = this.
        case next(String)
        /// `lastPage` "false" and no key to ask for the rest with.
        case moreWithoutKey
    }

    var working: [Working] = []
    /// Every order the reply lists, whatever its status (an order listed as not working did not
    /// just fall between pages), by id.
    var listed: Set<String> = []
    /// Orders the reply lists as filled or rejected ("8"), by id.
    var filled: Set<String> = []
    var rejected: Set<String> = []
    var skipped: [String] = []
    var continuation = Continuation.lastPage

    /// Adds a later page of the same poll. An order listed again (the list moved between the
    /// requests) keeps its first listing and is reported.
    mutating func absorb(_ page: TTOrderPage) {
        var seen = Set(working.map(\.orderId))
        for order in page.working {
            if seen.insert(order.orderId).inserted { working.append(order) }
            else { skipped.append("order \(order.orderId) listed on two pages") }
        }
        listed.formUnion(page.listed)
        filled.formUnion(page.filled)
        rejected.formUnion(page.rejected)
        skipped += page.skipped
        continuation = page.continuation
    }
}

/// TT's order record, as a real `GET /ttledger/{env}/orders` reply shows it (see
/// docs/operations.md, "ttorders", for the sources): `orderId`, `accountId` (a number),
/// `instrumentId` (a string), `side` "1"/"2", `price`, `orderQty`, `leavesQuantity` and
/// `cumulatedQuantity` (JSON numbers such as `80.0`), `orderStatus` in TT's own numbering (its
/// order `enums.proto`: 1 New, 2 PartiallyFilled, 3 Filled, 5 Canceled, 6 PendingCancel,
/// 8 Rejected, 12 Expired, 14 PendingReplace — not FIX's, where "2" would mean filled); the
/// reply's `lastPage` and `nextPageKey` drive the paging.
enum TTOrderMapping {
    /// Statuses of an order still on the book: new, partially filled, and pending a cancel or a
    /// replace (it works until the exchange confirms the change).
    static let workingStatuses: Set<String> = ["1", "2", "6", "14"]
    static let filledStatus = "3"
    static let rejectedStatus = "8"

    static func page(from body: String, config: TTConfig, catalogSymbols: [String: String]) throws(TTError) -> TTOrderPage {
        let json: JSONValue
        do { json = try JSONValue.parse(body) } catch { throw .malformedReply("orders reply: \(error.message) at byte \(error.offset)") }
        let items: [JSONValue]
        if case .array(let list) = json { items = list }
        else if case .array(let list)? = json["orders"] { items = list }
        else if case .object = json, json["orders"] == nil || json["orders"] == .null { items = [] }
        else { throw .malformedReply("orders reply has no 'orders' array") }
        var page = TTOrderPage()
        page.continuation = continuation(of: json, listed: items.count)
        var seen = Set<String>()
        for item in items {
            guard case .object = item else { page.skipped.append("an order that is not an object"); continue }
            guard let orderId = TTFillMapping.text(item["orderId"]) else { page.skipped.append("an order without orderId"); continue }
            page.listed.insert(orderId)
            let status = TTFillMapping.text(item["orderStatus"]) ?? TTFillMapping.text(item["ordStatus"])
            let leaves = TTFillMapping.integer(item["leavesQuantity"]) ?? TTFillMapping.integer(item["leavesQty"]) ?? 0
            let filled = TTFillMapping.integer(item["cumulatedQuantity"]) ?? TTFillMapping.integer(item["cumQty"]) ?? 0
            let orderQty = TTFillMapping.integer(item["orderQty"])
            // Filled by its code, or by its quantities whatever the code says (an order cannot
            // execute its whole quantity and be anything but filled).
            if status == filledStatus || (leaves == 0 && filled > 0 && filled >= (orderQty ?? filled)) {
                page.filled.insert(orderId); continue
            }
            if status == rejectedStatus { page.rejected.insert(orderId); continue }
            // Cancelled, expired, done for the day, not yet accepted, nothing left, or an algo's
            // parent order (no quantity of its own): not working.
            guard let status, workingStatuses.contains(status), leaves > 0 else { continue }
            guard seen.insert(orderId).inserted else { page.skipped.append("order \(orderId) listed twice"); continue }
            guard let accountId = TTFillMapping.text(item["accountId"]) else { page.skipped.append("order \(orderId) has no accountId"); continue }
            guard let instrumentId = TTFillMapping.text(item["instrumentId"]) else {
                page.skipped.append("order \(orderId) has no instrumentId"); continue
            }
            let side: String
            switch TTFillMapping.text(item["side"]) {
            case "1": side = "buy"
            case "2": side = "sell"
            case let other: page.skipped.append("order \(orderId) has side \(other ?? "missing") (expected \"1\" or \"2\")"); continue
            }
            let mapping = config.instruments[instrumentId]
            guard let pxText = TTFillMapping.text(item["price"]), let px = ScaledDecimal(pxText),
                  let multiplier = ScaledDecimal(mapping?.priceMultiplier ?? "1"), let price = px.multiplied(by: multiplier) else {
                page.skipped.append("order \(orderId) has no exactly scalable price"); continue
            }
            let qty = orderQty ?? (leaves + filled)
            guard qty > 0 else { page.skipped.append("order \(orderId) has no positive quantity"); continue }
            page.working.append(TTOrderPage.Working(orderId: orderId, account: config.accounts[accountId] ?? accountId,
                                                    instrument: mapping?.symbol ?? catalogSymbols[instrumentId] ?? instrumentId,
                                                    side: side, qty: qty, price: price.description))
        }
        return page
    }

    /// A key means there is more to read, whatever `lastPage` says (it is reported "true" on every
    /// page of TT's fills), unless the page listed nothing and does not claim more: an empty page
    /// ends the read, as for fills. `lastPage` "false" without a key cannot be followed.
    static func continuation(of reply: JSONValue, listed: Int) -> TTOrderPage.Continuation {
        let saysMore: Bool
        switch reply["lastPage"] {
        case .string(let text)?: saysMore = text.lowercased() == "false"
        case .bool(let last)?: saysMore = !last
        default: saysMore = false
        }
        if let key = TTFillMapping.text(reply["nextPageKey"]), listed > 0 || saysMore { return .next(key) }
        return saysMore ? .moreWithoutKey : .lastPage
    }
}
