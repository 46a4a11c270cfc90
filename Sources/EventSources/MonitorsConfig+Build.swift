extension MonitorsConfig {
    /// The monitors named in `sources` (see `knownSources`), in that order.
    /// `ttCatalogSymbols`: TT instrumentId → symbol from the instrument catalog.
    public func makeMonitors(sources: [String], clock: any MonitorClock = SystemClock(),
                             ttCatalogSymbols: [String: String] = [:]) throws(UnknownSourceError) -> [any Monitor] {
        try sources.map { (source: String) throws(UnknownSourceError) -> any Monitor in
            switch source {
            case "replay": return ReplayMonitor(config: replay, clock: clock)
            case "sim": return SimulatorMonitor(config: sim, clock: clock)
            case "tt": return TTFillPoller(config: tt, clock: clock, catalogSymbols: ttCatalogSymbols)
            default: throw UnknownSourceError(name: source)
            }
        }
    }
}

public struct UnknownSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var description: String { "unknown source '\(name)' (known: \(MonitorsConfig.knownSources.joined(separator: ", ")))" }
}
