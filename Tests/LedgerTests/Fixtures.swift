import Bytes
import ConfigFiles
import Foundation
@testable import Ledger

/// The default catalog from the repository's own config file, so the shipped file is tested too.
let defaultCatalog: InstrumentCatalog = {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/instruments.json").path
    do { return try InstrumentsFile.load(path: path) } catch { fatalError("cannot load \(path): \(error)") }
}()

func instrument(_ symbol: String) -> Instrument { defaultCatalog[symbol]! }

/// Parses price text with the instrument's rules, for readable tests.
func px(_ text: String, _ symbol: String = "ZNZ6") -> Price {
    do { return try instrument(symbol).parsePrice(text) } catch { fatalError("bad test price \(text): \(error)") }
}

/// Nanos for "2026-11-24T14:30:00Z"-style text.
func at(_ text: String) -> Nanos { parseISO8601(text)! }

/// A fill event with readable defaults; times are seconds after a fixed morning.
func fillEvent(_ execId: String, _ side: Side, _ qty: Int64, _ price: String, account: String = "ACC1",
               instrument symbol: String = "ZNZ6", second: Int64 = 0) -> LedgerEvent {
    .fill(Fill(execId: execId, account: account, instrument: symbol, side: side, qty: qty, price: px(price, symbol),
               time: at("2026-11-24T14:30:00Z") + second * 1_000_000_000, source: "test"))
}

func markEvent(_ price: String, instrument symbol: String = "ZNZ6", second: Int64 = 0) -> LedgerEvent {
    .mark(instrument: symbol, price: px(price, symbol), time: at("2026-11-24T14:30:00Z") + second * 1_000_000_000, source: "test")
}

func sodEvent(_ qty: Int64, _ price: String, account: String = "ACC1", instrument symbol: String = "ZNZ6") -> LedgerEvent {
    .sod(account: account, instrument: symbol, qty: qty, price: px(price, symbol), time: at("2026-11-24T12:00:00Z"))
}

extension Ledger {
    /// Applies events that must all succeed.
    @discardableResult
    mutating func applyAll(_ events: [LedgerEvent]) -> [[LedgerDelta]] {
        events.map { event in
            do { return try apply(event) } catch { fatalError("\(event) failed: \(error)") }
        }
    }
}
