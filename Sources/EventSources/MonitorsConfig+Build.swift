extension MonitorsConfig {
    /// The monitors named in `sources` (see `knownSources`), in that order.
    /// `ttCatalogSymbols`: TT instrumentId → symbol from the instrument catalog.
    public func makeMonitors(sources: [String], clock: any MonitorClock = SystemClock(),
                             ttCatalogSymbols: [String: String] = [:]) throws(UnknownSourceError) -> [any Monitor] {
        // The TT fill poller and orders monitor share one rate limit and one token.
        let transport = URLSessionTransport()
        let bucket = TokenBucket(ratePerSecond: tt.requestsPerSecond, burst: 1, clock: clock)
        let tokens = TTTokenManager(config: tt, transport: transport, clock: clock, rateLimit: bucket)
        return try sources.map { (source: String) throws(UnknownSourceError) -> any Monitor in
            switch source {
            case "replay": return ReplayMonitor(config: replay, clock: clock)
            case "sim": return SimulatorMonitor(config: sim, clock: clock)
            case "tt": return TTFillPoller(config: tt, transport: transport, clock: clock, catalogSymbols: ttCatalogSymbols,
                                           rateLimit: bucket, tokens: tokens)
            case "ttorders": return TTOrdersMonitor(config: tt, transport: transport, clock: clock, catalogSymbols: ttCatalogSymbols,
                                                    rateLimit: bucket, tokens: tokens)
            case "ttrecon": return TTPositionMonitor(config: tt, transport: transport, clock: clock, catalogSymbols: ttCatalogSymbols,
                                                     rateLimit: bucket, tokens: tokens)
            default: throw UnknownSourceError(name: source)
            }
        }
    }
}

public struct UnknownSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var description: String { "unknown source '\(name)' (known: \(MonitorsConfig.knownSources.joined(separator: ", ")))" }
}
