import Bytes
import CSystem
import Dispatch
import EventSources
import Foundation
import Glibc
import Hub
import Ingest
import JSON
import Journal
import Ledger
import Reactor
import Synchronization
import Wire
import WebSocketCore

public let ladderwireVersion = "0.1.0"

/// The signalfd for SIGINT/SIGTERM/SIGHUP. Created first thing in `main`, before any thread
/// exists, so every thread inherits the blocked mask and no signal is lost or acted on by default;
/// `main` hands it down to the one `serve` run that reads it.
public struct ShutdownSignals: Sendable {
    public let fd: Int32

    /// Blocks the shutdown signals for this thread and every thread created after it; nil when
    /// the kernel refuses a signalfd (the server then stops only by SIGKILL).
    public static func block() -> ShutdownSignals? {
        let descriptor = lw_block_shutdown_signals()
        return descriptor >= 0 ? ShutdownSignals(fd: descriptor) : nil
    }
}

/// Wires one `serve` run: instruments → journal → pipeline (recovery) → loop → listeners →
/// monitors → signals. Returns the process exit code.
public enum ServerRunner {
    public struct StartupError: Error, CustomStringConvertible { public var description: String }

    public static func run(config: ServerConfig, signals: ShutdownSignals?,
                           log: @escaping @Sendable (String) -> Void = writeLine) throws(StartupError) -> Int32 {
        let catalog: InstrumentCatalog
        do { catalog = try InstrumentCatalog.load(path: config.instrumentsFile) } catch {
            throw StartupError(description: "instruments file \(config.instrumentsFile): \(error)")
        }
        // Certificate problems are start-up errors, reported before anything is opened.
        let tls = try loadTLSContext(config)
        let ledgerConfig = try loadLedgerConfig(config)
        let tokens = try loadTokens(config)
        let anonymousRole: Principal.Role? = config.allowAnonymousViewers
            ? (config.environment == .sim ? .admin : .viewer) : nil
        let journal = try openJournal(config)
        let loop = try makeLoop(config)

        // The hub lives on the loop; the pipeline thread reaches it only by posting to the
        // loop's mailbox, in commit order (LoopBound checks the hop).
        let hub = Hub(deflater: MessageDeflater()), metrics = ServerMetrics()
        let fanOut = LoopBound((hub: hub, metrics: metrics), on: loop)
        let started = Monotonic.now()
        let pipeline: IngestPipeline
        do {
            pipeline = try IngestPipeline(journal: journal, catalog: catalog, config: ledgerConfig, options: pipelineOptions(config)) { events in
                let committedAt = Monotonic.now()
                fanOut.post { target in
                    target.hub.publish(events)
                    target.metrics.recordPush(micros: Int((Monotonic.now().nanoseconds - committedAt.nanoseconds) / 1000))
                }
            }
        } catch {
            throw StartupError(description: "recovery failed: \(error.description)")
        }
        log("recovered \(pipeline.statistics.recoveredEvents.load(ordering: .relaxed)) events up to seq \(journal.lastSeq) in \(String(format: "%.3f", Monotonic.now().seconds(since: started))) s (epoch \(journal.epoch))")

        // Monitor state changes reach every subscriber of the status channel, on the loop.
        let encoder = pipeline.encoder
        let statusBoard = StatusBoard { status in
            let message = encoder.statusMessage(status)
            fanOut.post { $0.hub.broadcast(message) }
        }
        let context = ServerContext(config: config, loop: loop, hub: hub, metrics: metrics, pipeline: pipeline,
                                    statusBoard: statusBoard,
                                    authenticator: Authenticator(tokens: tokens, anonymousRole: anonymousRole), version: ladderwireVersion)
        pipeline.start()
        let walCheckpointer = WALCheckpointer(path: config.databasePath)
        walCheckpointer.start()
        pipeline.audit(actor: "server", action: "config_load", detail: "environment \(config.environment.rawValue), sources \(config.sources.joined(separator: ",")), db \(config.databasePath)")

        let port: Int
        do {
            port = try loop.listen(host: config.host, port: config.port, tls: tls) { connection in
                connection.handler = HTTPSession(context: context)
            }
        } catch {
            throw StartupError(description: "\(error)")
        }

        // Monitors feed the pipeline like any producer.
        let supervisor = MonitorSupervisor(monitors: try makeMonitors(config, catalog: catalog), sink: pipeline, status: statusBoard)
        supervisor.start()

        if config.scheduledDayRoll { scheduleDayRoll(loop: loop, pipeline: pipeline, log: log) }

        // Before announcing the port: a signal that arrives once scripts see "listening on" must
        // find its handler installed, not the default action or an ignored signal.
        if let signals { installShutdown(signals, loop: loop, context: context, supervisor: supervisor, log: log) }
        announce(config, port: port, tls: tls, anonymousRole: anonymousRole, log: log)

        loop.run()

        // The loop has drained; stop the writer after everything queued is committed.
        let done = DispatchSemaphore(value: 0)
        pipeline.stop { done.signal() }
        _ = done.wait(timeout: .now() + 10)
        walCheckpointer.stop()
        journal.close()
        log("stopped cleanly")
        return 0
    }

    static func openJournal(_ config: ServerConfig) throws(StartupError) -> Journal {
        var options = JournalOptions(path: config.databasePath)
        options.durability = config.durability == "full" ? .full : .normal
        // The WAL is copied back by its own thread (WALCheckpointer), so the writer's own
        // automatic checkpoint finds almost nothing left to copy; it stays on because only a
        // checkpoint by the writer between its transactions lets the WAL restart from the top
        // under a constant write load (else it grows without bound).
        options.walAutocheckpointPages = 4_000
        do { return try Journal(options) } catch {
            throw StartupError(description: "database \(config.databasePath): \(error.message)")
        }
    }

    static func makeLoop(_ config: ServerConfig) throws(StartupError) -> EventLoop {
        var options = EventLoop.Options()
        options.maxConnections = config.limits.maxConnections
        options.outboundCapBytes = config.limits.outboundCapBytes
        options.tlsHandshakeTimeout = config.limits.tlsHandshakeTimeoutSeconds
        do { return try EventLoop(options: options) } catch { throw StartupError(description: "\(error)") }
    }

    static func pipelineOptions(_ config: ServerConfig) -> IngestPipeline.Options {
        var options = IngestPipeline.Options()
        options.checkpointEvery = config.checkpointEvery
        options.snapshotFills = config.limits.snapshotFills
        options.maxResumeEvents = config.limits.maxResumeEvents
        return options
    }

    static func makeMonitors(_ config: ServerConfig, catalog: InstrumentCatalog) throws(StartupError) -> [any Monitor] {
        var ttSymbols: [String: String] = [:]
        for instrument in catalog.all { if let id = instrument.ttInstrumentId { ttSymbols[id] = instrument.symbol } }
        do { return try config.monitors.makeMonitors(sources: config.sources, ttCatalogSymbols: ttSymbols) } catch {
            throw StartupError(description: "--sources: \(error.description)")
        }
    }

    /// The start-up banner: what runs, what is open, and where to look.
    static func announce(_ config: ServerConfig, port: Int, tls: TLSContext?, anonymousRole: Principal.Role?,
                         log: @Sendable (String) -> Void) {
        let hostForURL = config.host.contains(":") ? "[\(config.host)]" : config.host
        let (http, ws) = tls == nil ? ("http", "ws") : ("https", "wss")
        log("ladderwire \(ladderwireVersion) — environment \(config.environment.rawValue), database \(config.databasePath)")
        if let anonymousRole {
            log("WARNING: anonymous \(anonymousRole.rawValue) access is allowed for loopback clients (allowAnonymousViewers); use tokens on shared hosts")
        }
        log("sources: \(config.sources.isEmpty ? "none" : config.sources.joined(separator: ", "))\(config.echo ? "; /echo enabled" : "")")
        if let tls { log("TLS: certificate \(tls.certificateChainFile), key \(tls.privateKeyFile) (reloaded on SIGHUP)") }
        log("listening on \(http)://\(hostForURL):\(port)")
        log("open \(http)://\(hostForURL):\(port)/ in a browser, or watch in a terminal: wscat -c '\(ws)://\(hostForURL):\(port)/ws?format=text'")
    }

    /// SIGINT/SIGTERM (read from a signalfd on the loop): stop monitors, stop accepting, close
    /// every client with 1001, wait for a bounded drain, stop the loop. A second signal exits at once.
    /// SIGHUP: reload the TLS certificate and key for new connections (see `reloadTLS`).
    static func installShutdown(_ signals: ShutdownSignals, loop: EventLoop, context: ServerContext,
                                supervisor: MonitorSupervisor, log: @escaping @Sendable (String) -> Void) {
        var draining = false
        loop.watchSignals(fd: signals.fd) { signalNumber in
            if signalNumber == SIGHUP {
                reloadTLS(loop: loop, config: context.config, log: log)
                return
            }
            guard signalNumber == SIGINT || signalNumber == SIGTERM else { return }
            if draining {
                log("second signal: exiting now")
                exit(1)
            }
            draining = true
            log("shutting down: stopping monitors, closing clients with 1001")
            // Monitors first (their last messages and cursors still get committed and pushed),
            // then the clients; the loop keeps serving while the monitor threads wind down.
            let bound = LoopBound(context, on: loop)
            DispatchQueue.global().async {
                _ = supervisor.stop(timeoutSeconds: 3)
                bound.post { beginDrain($0, log: log) }
            }
        }
    }

    /// A TLS context from `tlsCert`/`tlsKey`, or nil when TLS is off.
    static func loadTLSContext(_ config: ServerConfig) throws(StartupError) -> TLSContext? {
        guard let cert = config.tlsCert, let key = config.tlsKey else { return nil }
        do { return try TLSContext(certificateChainFile: cert, privateKeyFile: key) } catch {
            throw StartupError(description: "TLS: \(error.description)")
        }
    }

    /// Re-reads the certificate and key (renewed in place by certbot or an operator). New
    /// connections get the new context; open connections keep theirs and are not dropped. A bad
    /// pair is logged and the old one stays in service.
    static func reloadTLS(loop: EventLoop, config: ServerConfig, log: @escaping @Sendable (String) -> Void) {
        guard config.tlsCert != nil else {
            log("SIGHUP: TLS is off, nothing to reload")
            return
        }
        do {
            guard let context = try loadTLSContext(config) else { return }
            loop.replaceTLSContext(context)
            log("SIGHUP: TLS certificate \(context.certificateChainFile) reloaded for new connections")
        } catch {
            log("SIGHUP: TLS reload failed, keeping the previous certificate: \(error.description)")
        }
    }

    /// Rolls the day at each 17:00 America/Chicago boundary (the ledger computes it, DST included).
    static func scheduleDayRoll(loop: EventLoop, pipeline: IngestPipeline, notBefore: Int64 = wallClockNanos(),
                                log: @escaping @Sendable (String) -> Void) {
        let now = wallClockNanos()
        let next = tradingDayEnd(after: max(now, notBefore))
        let seconds = Double(next - now) / 1e9
        loop.schedule(after: max(seconds, 1)) {
            pipeline.submit(items: [.dayRoll], source: "scheduler", atomic: true) { results in
                log("scheduled day roll at \(isoString(next)): \(results[0])")
            }
            // Past this boundary, so a timer firing a hair early cannot find the same one again.
            scheduleDayRoll(loop: loop, pipeline: pipeline, notBefore: next + 1_000_000_000, log: log)
        }
    }

    static func beginDrain(_ context: ServerContext, log: @escaping @Sendable (String) -> Void) {
        context.shuttingDown = true
        context.loop.closeListeners()
        for connection in Array(context.loop.allConnections) {
            if let session = connection.handler as? WebSocketSession {
                session.close(.goingAway, reason: "server shutting down")
            } else if !connection.hasUnsentOutput {
                connection.close()   // an idle HTTP connection has nothing left to say
            } else {
                connection.closeAfterFlush(within: 1)
            }
        }
        let deadline = Monotonic.now().adding(seconds: 5)
        func check() {
            if context.loop.connectionCount == 0 || deadline < Monotonic.now() {
                context.loop.stop()
            } else {
                context.loop.schedule(after: 0.05) { check() }
            }
        }
        check()
    }

    static func loadLedgerConfig(_ config: ServerConfig) throws(StartupError) -> LedgerConfig {
        let (path, required) = config.effectiveAccountsFile
        guard let data = FileManager.default.contents(atPath: path) else {
            if required { throw StartupError(description: "accounts file \(path): cannot read it") }
            return LedgerConfig()
        }
        do { return try LedgerConfig(json: data) } catch { throw StartupError(description: "accounts file \(path): \(error)") }
    }

    static func loadTokens(_ config: ServerConfig) throws(StartupError) -> TokenStore {
        let (path, required) = config.effectiveTokensFile
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw StartupError(description: "tokens file \(path): not found") }
            return TokenStore()
        }
        do { return try TokenStore(path: path) } catch { throw StartupError(description: error.description) }
    }
}

/// One line to stdout, unbuffered (scripts wait for "listening on").
public func writeLine(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    bytes.withUnsafeBytes { _ = Glibc.write(1, $0.baseAddress, $0.count) }
}

/// One line to stderr.
public func writeError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    bytes.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
}
