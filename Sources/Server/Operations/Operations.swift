import Bytes
import ConfigFiles
import Foundation
import JSON
import Ingest
import Journal
import Ledger

/// The operator's commands on the database file: `backup`, `export`, `audit`, `db check`. They
/// open the journal read-only next to a running `serve` (WAL lets readers run beside the writer)
/// and never change it. Results go to stdout (or `--out`), progress and summaries to stderr.
enum Operations {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func openJournal(_ path: String) throws(Failure) -> Journal {
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(description: "database \(path): not found (pass --db PATH, or --config FILE naming its databasePath)")
        }
        var options = JournalOptions(path: path)
        options.readOnly = true
        do { return try Journal(options) } catch { throw Failure(description: "database \(path): \(error.message)") }
    }

    static func loadCatalog(_ config: ServerConfig) throws(Failure) -> InstrumentCatalog {
        guard FileManager.default.isReadableFile(atPath: config.instrumentsFile) else {
            throw Failure(description: "instruments file \(config.instrumentsFile): not found (set instrumentsFile in the config file, or pass --config)")
        }
        do { return try InstrumentsFile.load(path: config.instrumentsFile) } catch {
            throw Failure(description: "instruments file \(ServerRunner.humane(error.description))")
        }
    }

    // MARK: backup

    /// `ladderwire backup --out FILE`: SQLite's online backup API from a read-only connection,
    /// then the copy is opened and checked (integrity, epoch, last seq).
    static func backup(database: String, out: String, log: @escaping (String) -> Void) throws(Failure) -> Int32 {
        let journal = try openJournal(database)
        defer { journal.close() }
        let started = Monotonic.now()
        var lastTenth = -1, pages = 0
        do {
            // A progress line per tenth of the file: one or two on a small file, ten on a big one.
            try journal.onlineBackup(to: out) { copied, total in
                pages = total
                let percent = total == 0 ? 100 : copied * 100 / total
                guard percent / 10 != lastTenth else { return }
                lastTenth = percent / 10
                log("backup: \(copied) of \(total) pages (\(percent)%)")
            }
        } catch {
            throw Failure(description: error.message)
        }
        let seconds = max(Monotonic.now().seconds(since: started), 1e-6)
        let copy = try openJournal(out)
        defer { copy.close() }
        let intact: Bool
        do { intact = try copy.integrityCheck() } catch { throw Failure(description: "backup \(out): \(error.message)") }
        guard intact, copy.epoch == journal.epoch else {
            throw Failure(description: "backup \(out): the copy does not verify (integrity check failed); keep the old backup and retry")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        log("backup ok: \(out), \(size) bytes, events up to seq \(copy.lastSeq), epoch \(copy.epoch), integrity ok; \(pages) pages in \(String(format: "%.3f", seconds)) s, \(Int(Double(pages) / seconds)) pages/s")
        return 0
    }

    // MARK: export

    enum Format: String { case csv, ndjson }

    /// One table to write: a header and rows of cells (every cell is text: exact values).
    struct Table {
        var columns: [String]
        var rows: [[String]] = []
    }

    static func export(what: String, config: ServerConfig, database: String, date: Int?, account: String?,
                       format: Format, out: String?, log: @escaping @Sendable (String) -> Void) throws(Failure) -> Int32 {
        let journal = try openJournal(database)
        defer { journal.close() }
        let table: Table
        switch what {
        case "fills": table = try fillsTable(journal, catalog: try loadCatalog(config), date: date, account: account, log: log)
        case "positions": table = try positionsTable(journal, config: config, date: date, account: account, log: log)
        case "audit": table = try auditTable(journal, date: date)
        default: throw Failure(description: "export takes fills, positions or audit, got '\(what)'")
        }
        let text = format == .csv ? csv(table) : ndjson(table)
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8)) else {
                throw Failure(description: "cannot write \(out) (its folder must exist and be writable)")
            }
            log("exported \(table.rows.count) \(what) rows to \(out)")
        } else {
            writeOut(text)
        }
        return 0
    }

    static func fillsTable(_ journal: Journal, catalog: InstrumentCatalog, date: Int?, account: String?,
                           log: @escaping @Sendable (String) -> Void) throws(Failure) -> Table {
        var table = Table(columns: ["trade_date", "time", "seq", "exec_id", "account", "instrument", "side", "qty",
                                    "price", "price_decimal", "status", "original_qty", "original_price_decimal", "source"])
        let rows: [FillRow]
        do { rows = try journal.fills(from: nil, to: nil, account: account) } catch { throw Failure(description: error.message) }
        let meter = ProgressMeter("export", unit: "fills", total: rows.count, write: log)
        for (index, row) in rows.enumerated() {
            let instrument = catalog[row.instrument]
            let day = instrument.map { tradingDay(for: row.time, instrument: $0) } ?? tradingDay(for: row.time)
            if let date, day != date { continue }
            let price = Price(units: row.priceUnits)
            let display: String = instrument?.format(price) ?? price.decimalString
            let originalQty: String = row.originalQty.map { String($0) } ?? ""
            var originalPrice = ""
            if let text = row.originalPrice { originalPrice = Price(decimal: text)?.decimalString ?? text }
            var cells: [String] = [dayString(day), isoString(row.time), String(row.seq), row.execId, row.account, row.instrument]
            cells += [row.side, String(row.qty), display, price.decimalString, row.status, originalQty, originalPrice, row.source]
            table.rows.append(cells)
            if index % 10_000 == 0 { meter.update(index) }
        }
        meter.finish(rows.count)
        return table
    }

    static func positionsTable(_ journal: Journal, config: ServerConfig, date: Int?, account: String?,
                               log: @escaping @Sendable (String) -> Void) throws(Failure) -> Table {
        let catalog = try loadCatalog(config)
        let ledgerConfig: LedgerConfig
        do { ledgerConfig = try ServerRunner.loadLedgerConfig(config) } catch { throw Failure(description: error.description) }
        let before = date.map { tradingDayEnd(after: middayOf($0)) }
        let outcome: LedgerReplay.Outcome
        do {
            outcome = try LedgerReplay.replay(journal: journal, catalog: catalog, config: ledgerConfig, committedBefore: before,
                                              lastSeqHint: journal.lastSeq, label: "export", progress: log)
        } catch { throw Failure(description: "cannot rebuild positions: \(error.description)") }
        var table = Table(columns: ["as_of_seq", "account", "instrument", "net", "avg_price", "avg_price_decimal", "mark",
                                    "mark_decimal", "realized", "unrealized", "total", "bought", "sold", "sod_qty"])
        for line in outcome.ledger.positions where account == nil || line.account == account {
            let instrument = catalog[line.instrument]
            func text(_ price: Price?) -> String { price.map { instrument?.format($0) ?? $0.decimalString } ?? "" }
            var cells: [String] = [String(outcome.lastSeq), line.account, line.instrument, String(line.net)]
            cells += [text(line.avgPrice), line.avgPrice?.decimalString ?? "", text(line.mark), line.mark?.decimalString ?? ""]
            cells += [line.realized.decimalString, line.unrealized.decimalString, line.total.decimalString]
            cells += [String(line.bought), String(line.sold), String(line.sodQty)]
            table.rows.append(cells)
        }
        return table
    }

    static func auditTable(_ journal: Journal, date: Int?) throws(Failure) -> Table {
        var table = Table(columns: ["trade_date", "time", "actor", "action", "detail", "seq"])
        let entries: [AuditEntry]
        do { entries = try journal.auditEntries(from: nil, to: nil, action: nil) } catch { throw Failure(description: error.message) }
        for entry in entries {
            let day = tradingDay(for: entry.time)
            if let date, day != date { continue }
            table.rows.append([dayString(day), isoString(entry.time), entry.actor, entry.action, entry.detail, entry.seq.map(String.init) ?? ""])
        }
        return table
    }

    /// RFC 4180 as Excel reads it: a header row, CRLF line ends, fields quoted when they hold a
    /// comma, quote or line break (quotes doubled).
    static func csv(_ table: Table) -> String {
        func field(_ text: String) -> String {
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var out = table.columns.map(field).joined(separator: ",") + "\r\n"
        for row in table.rows { out += row.map(field).joined(separator: ",") + "\r\n" }
        return out
    }

    /// One JSON object per row, the columns as keys, every value a string (exact).
    static func ndjson(_ table: Table) -> String {
        var out = ""
        for row in table.rows {
            out += "{" + zip(table.columns, row).map { "\(jsonString($0)):\(jsonString($1))" }.joined(separator: ",") + "}\n"
        }
        return out
    }

    static func jsonString(_ text: String) -> String { JSONValue.string(text).serialized }

    // MARK: audit

    /// `ladderwire audit [--since T] [--kind K]`: one aligned line per entry, oldest first.
    static func audit(database: String, since: Int64?, kind: String?, limit: Int?) throws(Failure) -> Int32 {
        let journal = try openJournal(database)
        defer { journal.close() }
        var entries: [AuditEntry]
        do { entries = try journal.auditEntries(from: since, to: nil, action: kind) } catch { throw Failure(description: error.message) }
        // Columns as wide as the longest value of the selection (before --limit, so a limited
        // listing prints the same lines as the full one).
        let actorWidth = min(24, entries.map(\.actor.count).max() ?? 5)
        let actionWidth = min(24, entries.map(\.action.count).max() ?? 6)
        if let limit, entries.count > limit { entries = Array(entries.suffix(limit)) }
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        var out = ""
        for entry in entries {
            let seq = entry.seq.map { "  (seq \($0))" } ?? ""
            out += "\(isoString(entry.time))  \(pad(entry.actor, actorWidth))  \(pad(entry.action, actionWidth))  \(entry.detail)\(seq)\n"
        }
        writeOut(out)
        writeError("\(entries.count) audit entries\(kind.map { " of kind \($0)" } ?? "")\(since.map { " since \(isoString($0))" } ?? "")")
        return 0
    }

    // MARK: db check

    /// `ladderwire db check`: SQLite's integrity check, then the journal against the ledger: the
    /// ledger restored from the newest checkpoint and replayed to the end must equal the ledger
    /// replayed from the first event, and every fill event must have its fill row.
    static func dbCheck(config: ServerConfig, database: String, log: @escaping @Sendable (String) -> Void) throws(Failure) -> Int32 {
        let journal = try openJournal(database)
        defer { journal.close() }
        var problems: [String] = []
        do {
            if try journal.integrityCheck() { log("integrity: ok (PRAGMA integrity_check)") } else { problems.append("SQLite integrity check failed") }
        } catch { throw Failure(description: error.message) }
        let counts: (events: Int, fillEvents: Int, fillRows: Int, checkpoints: Int)
        do { counts = try journal.counts() } catch { throw Failure(description: error.message) }
        log("journal: \(counts.events) events up to seq \(journal.lastSeq), \(counts.fillRows) fill rows, \(counts.checkpoints) checkpoints, epoch \(journal.epoch)")
        if counts.events != Int(journal.lastSeq) { problems.append("seqs have gaps: \(counts.events) events but the last seq is \(journal.lastSeq)") }
        if counts.fillEvents != counts.fillRows {
            problems.append("\(counts.fillEvents) fill events but \(counts.fillRows) fill rows (fill events with side, qty, price and status)")
        }

        let catalog = try loadCatalog(config)
        let ledgerConfig: LedgerConfig
        do { ledgerConfig = try ServerRunner.loadLedgerConfig(config) } catch { throw Failure(description: error.description) }
        do {
            let full = try LedgerReplay.replay(journal: journal, catalog: catalog, config: ledgerConfig, useCheckpoint: false,
                                               lastSeqHint: journal.lastSeq, label: "db check (full replay)", progress: log)
            let fromCheckpoint = try LedgerReplay.replay(journal: journal, catalog: catalog, config: ledgerConfig, useCheckpoint: true,
                                                         lastSeqHint: journal.lastSeq, label: "db check (from checkpoint)", progress: log)
            let start = fromCheckpoint.checkpointSeq.map { "the checkpoint at seq \($0)" } ?? "seq 0 (no checkpoint yet)"
            let differences = compare(full.ledger, fromCheckpoint.ledger)
            if differences.isEmpty {
                log("ledger: replay from \(start) plus \(fromCheckpoint.replayed) events equals the full replay of \(full.replayed) events (\(full.ledger.positions.count) positions, \(full.ledger.fillCount) fills)")
            } else {
                problems.append("the ledger from \(start) differs from the full replay: " + differences.prefix(5).joined(separator: "; "))
            }
        } catch {
            problems.append("the journal does not replay: \(error.description)")
        }
        if problems.isEmpty {
            log("db check ok: \(database)")
            return 0
        }
        for problem in problems { log("PROBLEM: \(problem)") }
        log("db check FAILED: \(database) (\(problems.count) problem\(problems.count == 1 ? "" : "s")); restore the latest good backup (docs/operations.md)")
        return 1
    }

    /// What differs between two ledgers, position by position and account by account.
    static func compare(_ a: Ledger, _ b: Ledger) -> [String] {
        var out: [String] = []
        func line(_ p: PositionLine) -> String {
            "net \(p.net) avg \(p.avgPrice?.decimalString ?? "-") realized \(p.realized.decimalString) unrealized \(p.unrealized.decimalString)"
        }
        let left = Dictionary(a.positions.map { ("\($0.account)/\($0.instrument)", line($0)) }, uniquingKeysWith: { x, _ in x })
        let right = Dictionary(b.positions.map { ("\($0.account)/\($0.instrument)", line($0)) }, uniquingKeysWith: { x, _ in x })
        for key in Set(left.keys).union(right.keys).sorted() where left[key] != right[key] {
            out.append("\(key): \(left[key] ?? "absent") vs \(right[key] ?? "absent")")
        }
        if a.fillCount != b.fillCount { out.append("fills: \(a.fillCount) vs \(b.fillCount)") }
        if a.desk.total != b.desk.total { out.append("desk total: \(a.desk.total.decimalString) vs \(b.desk.total.decimalString)") }
        return out
    }

    // MARK: dates

    /// "2026-11-24" → 20261124, or nil.
    static func parseDate(_ text: String) -> Int? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        return year * 10_000 + month * 100 + day
    }

    static func dayString(_ day: Int) -> String {
        let month = day / 100 % 100, date = day % 100
        return "\(day / 10_000)-\(month < 10 ? "0" : "")\(month)-\(date < 10 ? "0" : "")\(date)"
    }

    /// 12:00 UTC on a yyyymmdd day (inside that trading day for any weekday).
    static func middayOf(_ day: Int) -> Int64 {
        CivilTime.days(year: Int64(day / 10_000), month: Int64(day / 100 % 100), day: Int64(day % 100)) * CivilTime.nanosPerDay
            + 12 * 3600 * CivilTime.nanosPerSecond
    }

    /// `--since`: an ISO 8601 time or a date (its UTC midnight).
    static func parseSince(_ text: String) -> Int64? {
        if let nanos = parseISO8601(text) { return nanos }
        guard let day = parseDate(text) else { return nil }
        return CivilTime.days(year: Int64(day / 10_000), month: Int64(day / 100 % 100), day: Int64(day % 100)) * CivilTime.nanosPerDay
    }
}

/// Text to stdout in full (exports can be large: loop over short writes).
func writeOut(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
        if written <= 0 { return }
        bytes = bytes.dropFirst(written)
    }
}
