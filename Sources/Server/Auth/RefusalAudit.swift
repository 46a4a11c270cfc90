import Bytes
import Ingest

/// Audit rows for refused requests (bad or missing token, wrong Host), aggregated so that a
/// client cannot fill the disk with them: per peer address, kind of refusal (missing token,
/// unknown token, expired, forbidden, wrong Host) and interval, the first refusal is written (its
/// detail cut to `detailLimit` bytes) and the rest are counted; one summary row per address and
/// kind ("N more refusals") is written when the interval ends (and at shutdown). An edge has no
/// journal (`pipeline` nil): it aggregates and closes the same way, and writes no rows. Loop thread only.
final class RefusalAudit {
    static let interval: Double = 60
    static let detailLimit = 256
    /// Addresses tracked at once; beyond it, refusals are counted under "*" (a spray of sources
    /// cannot grow this table either).
    static let maxAddresses = 10_000

    private struct Window { var address: String; var kind: String; var suppressed: Int }
    private var windows: [String: Window] = [:]
    private let pipeline: IngestPipeline?
    private(set) var rowsWritten = 0
    private(set) var suppressedTotal = 0

    init(pipeline: IngestPipeline?) { self.pipeline = pipeline }

    func record(address: String, action: String, kind: String, detail: String) {
        var key = "\(address) \(action) \(kind)"
        if windows[key] == nil && windows.count >= Self.maxAddresses { key = "*" }
        if var window = windows[key] {
            window.suppressed += 1
            windows[key] = window
            suppressedTotal += 1
            return
        }
        windows[key] = key == "*" ? Window(address: "*", kind: "any", suppressed: 1)
                                  : Window(address: address, kind: "\(action) \(kind)", suppressed: 0)
        if key == "*" { return }
        rowsWritten += 1
        pipeline?.audit(actor: address, action: action, detail: RefusalAudit.truncated(detail))
    }

    /// Ends the interval: one summary row per address that had suppressed refusals.
    func flush() {
        for window in windows.values where window.suppressed > 0 {
            rowsWritten += 1
            pipeline?.audit(actor: window.address, action: "refusals_suppressed",
                           detail: "\(window.suppressed) more refusals (\(window.kind)) within \(Int(Self.interval)) s")
        }
        windows.removeAll(keepingCapacity: true)
    }

    static func truncated(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > detailLimit else { return text }
        var cut = detailLimit
        while cut > 0 && (bytes[cut] & 0xC0) == 0x80 { cut -= 1 }   // never split a UTF-8 sequence
        return String(decoding: bytes[..<cut], as: UTF8.self) + "…"
    }
}
