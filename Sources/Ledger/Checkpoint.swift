import Foundation

/// The checkpoint form of a ledger: only what cannot be derived (fills, SOD lots, which fills
/// are in each book today, marks, last trades); lots and totals are rebuilt by replay, so
/// `restore(encodeState())` + the remaining events equals a full replay.
struct Checkpoint: Codable {
    struct StoredFill: Codable {
        var record: FillRecord
        var day: Int32
    }
    struct StoredBook: Codable {
        var account: String
        var instrument: String
        var method: CostMethod
        var sodLots: [Lot]
        var fills: [Int32]
    }
    struct StoredTrades: Codable {
        var instrument: String
        var last: StoredTrade?
        var carried: StoredTrade?
    }
    struct StoredTrade: Codable {
        var time: Nanos
        var arrival: Int32
        var price: Price
    }

    var version: Int
    var day: Int32
    var fills: [StoredFill]
    /// Sorted by (account, instrument).
    var books: [StoredBook]
    /// Sorted by instrument.
    var marks: [MarkRecord]
    var trades: [StoredTrades]
}

/// Why a checkpoint could not be restored.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    case unsupportedVersion(Int)
    case inconsistent(String)

    public var description: String {
        switch self {
        case .unreadable(let reason): return "checkpoint unreadable: \(reason)"
        case .unsupportedVersion(let version): return "checkpoint version \(version) is not supported"
        case .inconsistent(let reason): return "checkpoint inconsistent with the catalog: \(reason)"
        }
    }
}

extension Ledger {
    static let checkpointVersion = 1

    /// Compact, deterministic checkpoint (JSON, sorted keys, everything in a fixed order): the
    /// same state always encodes to the same bytes.
    public func encodeState() -> [UInt8] {
        func stored(_ trade: LastTrade?) -> Checkpoint.StoredTrade? {
            trade.map { Checkpoint.StoredTrade(time: $0.time, arrival: $0.arrival, price: $0.price) }
        }
        var trades: [Checkpoint.StoredTrades] = []
        for (index, instrument) in catalog.all.enumerated() where lastTrade[index] != nil || carriedTrade[index] != nil {
            trades.append(Checkpoint.StoredTrades(instrument: instrument.symbol, last: stored(lastTrade[index]),
                                                  carried: stored(carriedTrade[index])))
        }
        let checkpoint = Checkpoint(
            version: Ledger.checkpointVersion, day: day,
            fills: entries.indices.map { Checkpoint.StoredFill(record: record(Int32($0)), day: entries[$0].day) },
            books: bookOrder.map { id in
                let book = books[Int(id)]
                return Checkpoint.StoredBook(account: book.account, instrument: book.instrument, method: book.method,
                                             sodLots: book.sodLots, fills: book.fills)
            },
            marks: marks, trades: trades)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain Codable values into JSON cannot fail.
        return Array((try? encoder.encode(checkpoint)) ?? Data())
    }

    public static func restore(from bytes: [UInt8], catalog: InstrumentCatalog, config: LedgerConfig) throws(CheckpointError) -> Ledger {
        let checkpoint: Checkpoint
        do { checkpoint = try JSONDecoder().decode(Checkpoint.self, from: Data(bytes)) } catch {
            throw .unreadable(InstrumentCatalog.describe(error))
        }
        guard checkpoint.version == checkpointVersion else { throw .unsupportedVersion(checkpoint.version) }
        var ledger = Ledger(catalog: catalog, config: config)
        ledger.day = checkpoint.day
        do {
            for stored in checkpoint.books {
                guard let index = catalog.index(of: stored.instrument) else { throw CheckpointError.inconsistent("unknown instrument \(stored.instrument)") }
                guard stored.fills.allSatisfy({ $0 >= 0 && Int($0) < checkpoint.fills.count }) else {
                    throw CheckpointError.inconsistent("book \(stored.account)/\(stored.instrument) names a missing fill")
                }
                if ledger.accountIdByName[stored.account] == nil { ledger.registerAccount(stored.account) }
                let accountId = ledger.accountIdByName[stored.account]!
                let empty = Book(account: stored.account, instrument: stored.instrument, accountId: accountId,
                                 instrumentIndex: Int32(index), method: stored.method)
                let book = try empty.replayed(sodLots: stored.sodLots, fills: stored.fills) { i in checkpoint.fills[Int(i)].record.fill }
                ledger.register(book)
            }
            for stored in checkpoint.fills {
                let fill = stored.record.fill
                guard let book = ledger.bookId(account: fill.account, instrument: fill.instrument) else {
                    throw CheckpointError.inconsistent("fill \(fill.execId) has no book")
                }
                let arrival = Int32(ledger.entries.count)
                ledger.entryByExecId[fill.execId] = arrival
                ledger.entries.append(FillEntry(fill, book: book, day: stored.day))
                ledger.store(stored.record, at: arrival)
            }
            for mark in checkpoint.marks {
                guard let index = catalog.index(of: mark.instrument) else { throw CheckpointError.inconsistent("unknown instrument \(mark.instrument)") }
                ledger.markByInstrument[index] = mark
                ledger.markPrice[index] = mark.price
            }
            for trades in checkpoint.trades {
                guard let index = catalog.index(of: trades.instrument) else { throw CheckpointError.inconsistent("unknown instrument \(trades.instrument)") }
                ledger.lastTrade[index] = trades.last.map { LastTrade(time: $0.time, arrival: $0.arrival, price: $0.price) }
                ledger.carriedTrade[index] = trades.carried.map { LastTrade(time: $0.time, arrival: $0.arrival, price: $0.price) }
            }
            // Lines and totals from scratch: the placeholder lines are zero, so the rollup of
            // every line against them is the full sum.
            var staged: [StagedLine] = []
            for (id, book) in ledger.books.enumerated() {
                let index = Int(book.instrumentIndex)
                let line = try ledger.makeLine(book, totals: book.totals,
                                               reference: ledger.reference(instrument: index, lastTrade: ledger.lastTrade[index]))
                staged.append(StagedLine(book: Int32(id), accountId: book.accountId, line: line))
            }
            let rolled = try ledger.rollup(&staged, newAccount: nil)
            _ = ledger.publish(first: nil, staged: staged, accounts: rolled.accounts, desk: rolled.desk)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw .inconsistent(String(describing: error))
        }
        return ledger
    }
}
