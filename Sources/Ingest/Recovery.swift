import Journal
import Ledger

public struct RecoveryError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Start-up: the newest ledger checkpoint, then every event after it, replayed in seq order.
enum Recovery {
    struct Result {
        var ledger: Ledger
        var execIndex: [String: Int64]
        var orderIndex: [OrderVersion: Int64]
        var replayed: Int
    }

    static func recover(journal: any EventStore, catalog: InstrumentCatalog, config: LedgerConfig) throws(RecoveryError) -> Result {
        var ledger = Ledger(catalog: catalog, config: config)
        var after: Int64 = 0
        do {
            if let checkpoint = try journal.latestCheckpoint() {
                ledger = try Ledger.restore(from: checkpoint.state, catalog: catalog, config: config)
                after = checkpoint.seq
            }
        } catch {
            throw RecoveryError(description: "cannot restore the ledger checkpoint: \(error)")
        }
        var replayed = 0
        while true {
            let records: [EventRecord]
            do { records = try journal.events(after: after, limit: 50_000) } catch {
                throw RecoveryError(description: "cannot read the journal: \(error.message)")
            }
            guard !records.isEmpty else { break }
            for record in records {
                do {
                    let event = try EventCodec.decode(record.payload)
                    _ = try ledger.apply(event)
                } catch {
                    // A committed event was valid when it was applied; failing now means the
                    // code or the instrument file changed under the journal.
                    throw RecoveryError(description: "event \(record.seq) (\(record.kind)) does not replay: \(error)")
                }
                replayed += 1
            }
            after = records.last!.seq
        }
        let execIndex: [String: Int64]
        do { execIndex = try journal.allExecIds() } catch {
            throw RecoveryError(description: "cannot read the fill index: \(error.message)")
        }
        let orderIndex: [OrderVersion: Int64]
        do { orderIndex = try journal.allOrderVersions() } catch {
            throw RecoveryError(description: "cannot read the order index: \(error.message)")
        }
        return Result(ledger: ledger, execIndex: execIndex, orderIndex: orderIndex, replayed: replayed)
    }
}
