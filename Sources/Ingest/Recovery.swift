import Bytes
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

    static func recover(journal: any EventStore, catalog: InstrumentCatalog, config: LedgerConfig,
                        progress: (@Sendable (String) -> Void)? = nil) throws(RecoveryError) -> Result {
        let replay = try LedgerReplay.replay(journal: journal, catalog: catalog, config: config, progress: progress)
        let execIndex: [String: Int64]
        do { execIndex = try journal.allExecIds() } catch {
            throw RecoveryError(description: "cannot read the fill index: \(error.message)")
        }
        let orderIndex: [OrderVersion: Int64]
        do { orderIndex = try journal.allOrderVersions() } catch {
            throw RecoveryError(description: "cannot read the order index: \(error.message)")
        }
        return Result(ledger: replay.ledger, execIndex: execIndex, orderIndex: orderIndex, replayed: replay.replayed)
    }
}

/// The ledger rebuilt from the journal: from the newest checkpoint (or from nothing), replaying
/// every event after it in seq order. Start-up recovery, `ladderwire db check` and
/// `ladderwire export positions` use it.
public enum LedgerReplay {
    public struct Outcome: Sendable {
        public var ledger: Ledger
        /// Events applied on top of the starting point.
        public var replayed: Int
        /// The checkpoint's seq the replay started from (nil: from an empty ledger).
        public var checkpointSeq: Int64?
        /// The seq of the last event applied (or of the checkpoint).
        public var lastSeq: Int64
    }

    /// - Parameters:
    ///   - useCheckpoint: start from the newest checkpoint (false: replay every event from seq 1).
    ///   - committedBefore: stop before the first event committed at or after this wall-clock
    ///     time (nanoseconds); the ledger as it stood then.
    ///   - lastSeqHint: the journal's last seq, for the progress line's percentage.
    ///   - progress: gets progress lines (`ProgressMeter`) when the replay outlasts its quiet period.
    public static func replay(journal: any EventStore, catalog: InstrumentCatalog, config: LedgerConfig,
                              useCheckpoint: Bool = true, committedBefore: Int64? = nil, lastSeqHint: Int64? = nil,
                              label: String = "recovery",
                              progress: (@Sendable (String) -> Void)? = nil) throws(RecoveryError) -> Outcome {
        var ledger = Ledger(catalog: catalog, config: config)
        var after: Int64 = 0
        var checkpointSeq: Int64?
        do {
            if useCheckpoint, let checkpoint = try journal.latestCheckpoint(), committedBefore == nil {
                checkpointSeq = checkpoint.seq
                ledger = try Ledger.restore(from: checkpoint.state, catalog: catalog, config: config)
                after = checkpoint.seq
            }
        } catch {
            throw RecoveryError(description: "cannot restore the ledger checkpoint: \(error)")
        }
        let lastSeq = lastSeqHint ?? (journal as? Journal)?.lastSeq
        let meter = progress.map { ProgressMeter(label, unit: "events", total: lastSeq.map { Int(max(0, $0 - after)) }, write: $0) }
        var replayed = 0
        replay: while true {
            let records: [EventRecord]
            do { records = try journal.events(after: after, limit: 50_000) } catch {
                throw RecoveryError(description: "cannot read the journal: \(error.message)")
            }
            guard !records.isEmpty else { break }
            for record in records {
                if let committedBefore, record.committedAt >= committedBefore { break replay }
                do {
                    let event = try EventCodec.decode(record.payload)
                    _ = try ledger.apply(event)
                } catch {
                    // A committed event was valid when it was applied; failing now means the
                    // code or the instrument file changed under the journal.
                    throw RecoveryError(description: "event \(record.seq) (\(record.kind)) does not replay: \(error)")
                }
                replayed += 1
                after = record.seq
            }
            meter?.update(replayed)
        }
        meter?.finish(replayed)
        return Outcome(ledger: ledger, replayed: replayed, checkpointSeq: checkpointSeq, lastSeq: after)
    }
}
