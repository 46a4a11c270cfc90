/// Why an event was refused. Nothing changes when `apply` throws.
public enum LedgerError: Error, Sendable, Equatable, Hashable {
    case unknownInstrument(String)
    case invalidQuantity(Int64)
    case missingField(String)
    case priceOffGrid(String)
    case priceMalformed(String)
    case priceAmbiguous(String)
    /// The price is farther than the instrument's band from the latest mark.
    case priceOutOfBand(instrument: String, price: Price, mark: Price, band: Price)
    case duplicateExecId(String)
    case unknownFill(String)
    case fillAlreadyBusted(String)
    /// The fill belongs to a trading day already rolled into SOD: it cannot be replayed.
    case fillInClosedDay(String)
    /// A correction with neither qty nor price.
    case emptyCorrection(String)
    case unknownOrder(String)
    /// A `new` for an order id the ledger already holds.
    case orderExists(String)
    /// A replace, cancel or reject of an order that is no longer working (status given).
    case orderNotWorking(String, String)
    /// An order version not newer than the order's current one.
    case staleOrderVersion(String, Int64, current: Int64)
    case invalidVersion(String, Int64)
    /// A replace with neither qty nor price.
    case emptyReplace(String)
    /// A fill naming an order of another account, instrument or side.
    case orderMismatch(String, field: String)
    /// A value passed the range of exact integer arithmetic (about ±92 billion dollars).
    case overflow

    public init(_ priceError: PriceError) {
        switch priceError {
        case .malformed(let text): self = .priceMalformed(text)
        case .offGrid(let text): self = .priceOffGrid(text)
        case .ambiguous(let text): self = .priceAmbiguous(text)
        }
    }

    /// Stable snake_case code for producer replies.
    public var code: String {
        switch self {
        case .unknownInstrument: return "unknown_instrument"
        case .invalidQuantity: return "invalid_quantity"
        case .missingField: return "missing_field"
        case .priceOffGrid: return "price_off_grid"
        case .priceMalformed: return "price_malformed"
        case .priceAmbiguous: return "price_ambiguous"
        case .priceOutOfBand: return "price_out_of_band"
        case .duplicateExecId: return "duplicate_exec_id"
        case .unknownFill: return "unknown_fill"
        case .fillAlreadyBusted: return "fill_already_busted"
        case .fillInClosedDay: return "fill_in_closed_day"
        case .emptyCorrection: return "empty_correction"
        case .unknownOrder: return "unknown_order"
        case .orderExists: return "order_exists"
        case .orderNotWorking: return "order_not_working"
        case .staleOrderVersion: return "order_version_stale"
        case .invalidVersion: return "invalid_version"
        case .emptyReplace: return "empty_replace"
        case .orderMismatch: return "order_mismatch"
        case .overflow: return "overflow"
        }
    }

    /// Human text naming the offending value.
    public var message: String {
        switch self {
        case .unknownInstrument(let symbol): return "unknown instrument \"\(symbol)\""
        case .invalidQuantity(let qty): return "quantity must be a positive integer, got \(qty)"
        case .missingField(let field): return "field \"\(field)\" must not be empty"
        case .priceOffGrid(let text): return "price \"\(text)\" is not on the instrument's tick grid"
        case .priceMalformed(let text): return "price \"\(text)\" is not a valid price"
        case .priceAmbiguous(let text): return "price \"\(text)\" has an ambiguous fraction code (use 0,1,2,3,5,6,7,8 or a decimal 32nd)"
        case .priceOutOfBand(let instrument, let price, let mark, let band):
            return "price \(price.decimalString) for \(instrument) is more than \(band.decimalString) points from the mark \(mark.decimalString)"
        case .duplicateExecId(let execId): return "fill \"\(execId)\" already exists"
        case .unknownFill(let execId): return "no fill with execId \"\(execId)\""
        case .fillAlreadyBusted(let execId): return "fill \"\(execId)\" is already busted"
        case .fillInClosedDay(let execId): return "fill \"\(execId)\" belongs to a trading day already rolled to SOD"
        case .emptyCorrection(let execId): return "correction of \"\(execId)\" changes neither qty nor price"
        case .unknownOrder(let orderId): return "no order with orderId \"\(orderId)\""
        case .orderExists(let orderId): return "order \"\(orderId)\" already exists"
        case .orderNotWorking(let orderId, let status): return "order \"\(orderId)\" is \(status), not working"
        case .staleOrderVersion(let orderId, let version, let current):
            return "order \"\(orderId)\" version \(version) is not newer than its current version \(current)"
        case .invalidVersion(let orderId, let version): return "order \"\(orderId)\" version must be a positive integer, got \(version)"
        case .emptyReplace(let orderId): return "replace of \"\(orderId)\" changes neither qty nor price"
        case .orderMismatch(let orderId, let field): return "fill names order \"\(orderId)\" of another \(field)"
        case .overflow: return "amount outside the exact arithmetic range"
        }
    }
}

extension LedgerError: CustomStringConvertible {
    public var description: String { "\(code): \(message)" }
}
