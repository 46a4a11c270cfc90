import Bytes
import Foundation
import HTTPCore
import Ingest
import JSON
import Journal
import Ledger
import Reactor
import Wire

/// The HTTP API for scripts: `POST /api/fills`, `GET /api/snapshot`, `GET /api/fills`.
enum API {
    static func postFills(_ request: HTTPRequest, principal: Principal, context: ServerContext) -> RouteResult {
        guard case .array(let array)? = try? JSONValue.parse(String(decoding: request.body, as: UTF8.self)) else {
            return .response(.json(400, #"{"error":"malformed_json","message":"the body must be a JSON array of producer messages"}"#))
        }
        guard !array.isEmpty else {
            return .response(.json(400, #"{"error":"empty","message":"the array holds no messages"}"#))
        }
        var items: [IngestPipeline.Item] = []
        var refs: [String?] = []
        for element in array {
            let (item, ref) = ProducerItems.item(from: element, principal: principal)
            items.append(item)
            refs.append(ref)
        }
        let itemRefs = refs
        return .deferred { reply in
            let reply = LoopBound(reply, on: context.loop)
            let submitted = Monotonic.now()
            let metrics = LoopBound(context.metrics, on: context.loop)
            context.pipeline.submit(items: items, source: principal.name, atomic: true) { results in
                var rows: [JSONValue] = []
                var errors: [JSONValue] = []
                for (index, result) in results.enumerated() {
                    guard case .object(var fields) = ProducerItems.replyValue(result, ref: itemRefs[index]) else { continue }
                    fields.insert(("index", .int(Int64(index))), at: 0)
                    rows.append(.object(fields))
                    if case .rejected = result { errors.append(.object(fields)) }
                }
                let storageFailure = results.contains { if case .rejected(let code, _) = $0 { return code == "storage_error" }; return false }
                let status = errors.isEmpty ? 200 : storageFailure ? 503 : 422
                var body: [(String, JSONValue)] = [("accepted", .bool(errors.isEmpty)), ("results", .array(rows))]
                if !errors.isEmpty { body.append(("errors", .array(errors))) }
                let response = HTTPResponse.json(status, JSONValue.object(body).serialized)
                let count = results.count
                reply.post { $0(response) }
                metrics.post { $0.ack.record(micros: Int((Monotonic.now().nanoseconds - submitted.nanoseconds) / 1000), count: count) }
            }
        }
    }

    /// `POST /api/dayroll` (admin): open lots become the next trading day's SOD at the settlement
    /// mark; realized, bought and sold start again from zero. Journaled like any event.
    static func dayRoll(principal: Principal, context: ServerContext) -> RouteResult {
        .deferred { reply in
            let reply = LoopBound(reply, on: context.loop)
            context.pipeline.submit(items: [.dayRoll], source: principal.name, atomic: true) { results in
                let value = ProducerItems.replyValue(results[0], ref: "dayroll")
                let status: Int
                if case .ack = results[0] { status = 200 } else { status = 422 }
                reply.post { $0(.json(status, value.serialized)) }
            }
        }
    }

    static func getSnapshot(_ request: HTTPRequest, principal: Principal, context: ServerContext) -> RouteResult {
        var filter = SubscriptionFilter(allowedAccounts: principal.accounts)
        if let account = request.query["account"], !account.isEmpty {
            filter.accounts = Set(account.split(separator: ",").map(String.init))
        }
        if let instrument = request.query["instrument"], !instrument.isEmpty {
            filter.instruments = Set(instrument.split(separator: ",").map(String.init))
        }
        let board = context.statusBoard
        let chosen = filter
        let refusalCode = context.pipeline == nil ? "not_ready" : "storage_error"
        return .deferred { reply in
            let reply = LoopBound(reply, on: context.loop)
            let queued = context.source.snapshotBytes(filter: chosen, monitors: { board.all }) { result in
                switch result {
                case .failure(let refusal):
                    let error = JSONValue.object([("error", .string(refusalCode)), ("message", .string(refusal.reason))])
                    reply.post { $0(.json(503, error.serialized)) }
                case .success(let body):
                    let response = HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: body)
                    reply.post { $0(response) }
                }
            }
            if !queued { reply.post { $0(API.busy()) } }
        }
    }

    /// The most fills one `GET /api/fills` returns (a larger `limit` is cut to it): a page stays
    /// well under the 1 MiB outbound cap, so a slow client gets whole pages, never a cut reply.
    static let maxFillsPage = 1_000

    static func getFills(_ request: HTTPRequest, principal: Principal, context: ServerContext) -> RouteResult {
        let account = request.query["account"].flatMap { $0.isEmpty ? nil : $0 }
        if let account, !principal.allows(account: account) {
            return .response(.json(403, #"{"error":"forbidden","message":"this token may not read that account"}"#))
        }
        if account == nil && principal.accounts != nil {
            return .response(.json(400, #"{"error":"account_required","message":"a token scoped to accounts must name one: ?account=A"}"#))
        }
        let instrument = request.query["instrument"].flatMap { $0.isEmpty ? nil : $0 }
        var since: Int64?
        if let text = request.query["since"] {
            guard let value = Int64(text), value >= 0 else {
                return .response(.json(400, #"{"error":"bad_since","message":"since must be a non-negative integer seq"}"#))
            }
            since = value
        }
        var limit = 500
        if let text = request.query["limit"] {
            guard let value = Int(text), value > 0 else {
                return .response(.json(400, #"{"error":"bad_limit","message":"limit must be a positive integer"}"#))
            }
            limit = min(value, maxFillsPage)
        }
        let (fromSeq, maxRows) = (since, limit)
        return .deferred { reply in
            let reply = LoopBound(reply, on: context.loop)
            let queued = context.pipeline.read(ifQueueBelow: ServerContext.maxQueuedReads) { read in
                let response: HTTPResponse
                do {
                    var rows = try read.journal.fills(account: account, instrument: instrument, since: fromSeq, limit: maxRows + 1)
                    let more = rows.count > maxRows
                    if more { rows.removeLast() }
                    var out = JSONBytes(reservingCapacity: 256 * rows.count + 64)
                    out.openObject()
                    out.key("fills"); out.openArray()
                    for row in rows { read.encoder.write(.fill(fillRecord(row, catalog: read.encoder.catalog), seq: row.seq), to: &out) }
                    out.closeArray()
                    out.key("limit"); out.int(Int64(maxRows))
                    out.key("more"); out.bool(more)
                    // Forward paging (with `since`): the next page starts after the last seq here.
                    out.key("next")
                    if more, fromSeq != nil, let last = rows.last { out.int(last.seq) } else { out.null() }
                    out.closeObject()
                    response = HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: out.bytes)
                } catch let error as JournalError {
                    response = .json(500, JSONValue.object([("error", .string("storage_error")), ("message", .string(error.message))]).serialized)
                } catch {
                    response = .json(500, JSONValue.object([("error", .string("storage_error")), ("message", .string("\(error)"))]).serialized)
                }
                reply.post { $0(response) }
            }
            if !queued { reply.post { $0(API.busy()) } }
        }
    }

    /// 503 for a read refused because the ingest queue is full (`ServerContext.maxQueuedReads`).
    static func busy() -> HTTPResponse {
        var response = HTTPResponse.json(503, #"{"error":"busy","message":"the server has too many reads queued; retry shortly"}"#)
        response.headers.add("Retry-After", "1")
        return response
    }

    /// A stored fill row as the ledger's record, so `/api/fills` is written by the same writer
    /// as the live `fill` deltas.
    static func fillRecord(_ row: FillRow, catalog: InstrumentCatalog) -> FillRecord {
        let fill = Fill(execId: row.execId, account: row.account, instrument: row.instrument,
                        side: row.side == "sell" ? .sell : .buy, qty: row.qty, price: Price(units: row.priceUnits),
                        time: row.time, source: row.source)
        let originalPrice = row.originalPrice.flatMap { text in try? catalog[row.instrument]?.parsePrice(text) }
        return FillRecord(fill: fill, status: FillStatus(rawValue: row.status) ?? .live, originalQty: row.originalQty,
                          originalPrice: originalPrice)
    }
}
