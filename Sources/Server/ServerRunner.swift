import Bytes
import ConfigFiles
import CSystem
import Dispatch
import EventSources
import Foundation
import Glibc
import Hub
import Ingest
import Journal
import JSON
import Ledger
import Reactor
import StreamEngine
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
        try requireFile(config.instrumentsFile, what: "instruments file", key: "instrumentsFile")
        let catalog: InstrumentCatalog
        do { catalog = try InstrumentsFile.load(path: config.instrumentsFile) } catch {
            throw StartupError(description: "instruments file \(humane(error.description)) (fix the file, or point instrumentsFile at a good one)")
        }
        try requireFolder(config.staticDir, what: "static folder", key: "staticDir")
        // Certificate problems are start-up errors, reported before anything is opened.
        let tls = try loadTLSContext(config)
        let ledgerConfig = try loadLedgerConfig(config)
        let tokens = try loadTokens(config)
        // Anonymous access is tied to a loopback listener, never to a peer's address.
        let anonymousRole: Principal.Role? = config.allowAnonymousViewers && ServerContext.isLoopbackListener(config.host)
            ? (config.environment == .sim ? .admin : .viewer) : nil
        let journal = try openJournal(config, log: log)
        let loop = try makeLoop(config)

        // The hub lives on the loop; the pipeline thread reaches it only by posting to the
        // loop's mailbox, in commit order (LoopBound checks the hop).
        let hub = Hub(deflater: MessageDeflater()), metrics = ServerMetrics()
        let fanOut = LoopBound((hub: hub, metrics: metrics), on: loop)
        let started = Monotonic.now()
        let pipeline: IngestPipeline
        let publication = config.stream.map { _ in LoopBound(StreamPublication(epoch: journal.epoch), on: loop) }
        do {
            var options = pipelineOptions(config)
            options.recoveryProgress = log
            pipeline = try IngestPipeline(journal: journal, catalog: catalog, config: ledgerConfig, options: options) { events in
                let committedAt = Monotonic.now()
                fanOut.post { target in
                    let start = Monotonic.now()
                    target.hub.publish(events)
                    let done = Monotonic.now()
                    target.metrics.fanOut.record(micros: Int((done.nanoseconds - start.nanoseconds) / 1000))
                    target.metrics.recordPush(micros: Int((done.nanoseconds - committedAt.nanoseconds) / 1000))
                }
                publication?.post { $0.committed(events) }
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
                                    source: PipelineSource(pipeline: pipeline), statusBoard: statusBoard,
                                    authenticator: Authenticator(tokens: tokens, anonymousRole: anonymousRole), version: ladderwireVersion)
        startPipeline(pipeline, config: config, loop: loop)
        if let endpoint = config.stream, let publication {
            context.streamPublication = publication.value
            publication.value.start(endpoint: endpoint, pipeline: pipeline, loop: loop, lastSeq: journal.lastSeq, log: log)
        }
        let walCheckpointer = WALCheckpointer(path: config.databasePath)
        walCheckpointer.start()
        pipeline.audit(actor: "server", action: "config_load", detail: "environment \(config.environment.rawValue), sources \(config.sources.joined(separator: ",")), db \(config.databasePath)")

        let port: Int
        do {
            port = try loop.listen(host: config.host, port: config.port, tls: tls) { connection in
                connection.handler = HTTPSession(context: context, connection: connection)
            }
        } catch {
            throw StartupError(description: "\(error)")
        }

        // Monitors feed the pipeline like any producer.
        let supervisor = MonitorSupervisor(monitors: try makeMonitors(config, catalog: catalog), sink: pipeline, status: statusBoard)
        supervisor.start()

        scheduleRefusalAuditFlush(context)
        let tokenWatch = TokenWatch(config: config, log: log)
        tokenWatch.start(context)
        if config.scheduledDayRoll { scheduleDayRoll(loop: loop, pipeline: pipeline, log: log) }

        // Before announcing the port: a signal that arrives once scripts see "listening on" must
        // find its handler installed, not the default action or an ignored signal.
        if let signals { installShutdown(signals, loop: loop, context: context, supervisor: supervisor, tokens: tokenWatch, log: log) }
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

    /// A file the server must read: one line naming it, the config key that sets it and the fix.
    static func requireFile(_ path: String, what: String, key: String) throws(StartupError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StartupError(description: "\(what) \(path): not found (set \(key) in the config file to an existing file; relative paths start at the config file's folder)")
        }
        guard !isDirectory.boolValue else {
            throw StartupError(description: "\(what) \(path): is a folder (set \(key) in the config file to a file)")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw StartupError(description: "\(what) \(path): not readable by this user (fix its permissions)")
        }
    }

    /// The static folder: missing is a start-up error, not a server that answers 404 to the browser.
    static func requireFolder(_ path: String, what: String, key: String) throws(StartupError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StartupError(description: "\(what) \(path): not a folder (set \(key) in the config file or pass --static DIR)")
        }
    }

    /// Drops a Foundation error dump (`Error Domain=NSCocoaErrorDomain …`) from a message: the
    /// operator gets the sentence, not the object.
    static func humane(_ text: String) -> String {
        guard let range = text.range(of: "Error Domain=") else { return text }
        var head = String(text[..<range.lowerBound])
        while head.hasSuffix(" ") || head.hasSuffix(":") { head.removeLast() }
        return head.isEmpty ? "cannot be read" : head
    }

    /// Under `normal` durability the event loop drives the pipeline: a producer's frame is parsed,
    /// applied, committed (a `write()` into the page cache) and fanned out in the turn that read
    /// it, and its ack leaves in the same flush as the deltas; no thread hand-off either way.
    /// Under `full`, every commit waits for an fsync, which must never stall the loop: the
    /// pipeline keeps its own thread (and group-commits whatever queues during an fsync).
    static func startPipeline(_ pipeline: IngestPipeline, config: ServerConfig, loop: EventLoop) {
        guard config.durability != "full" else {
            pipeline.start(driver: .ownThread)
            return
        }
        let drain = LoopBound(pipeline, on: loop)
        pipeline.start(driver: .external(wake: { drain.post { $0.drainQueued() } },
                                         isDriverThread: { loop.isLoopThread }))
        scheduleIdleTicks(drain, loop: loop)
    }

    /// About once a second: due ledger checkpoints start, and finished ones are stored.
    private static func scheduleIdleTicks(_ pipeline: LoopBound<IngestPipeline>, loop: EventLoop) {
        loop.schedule(after: 1) {
            pipeline.value.idleTick()
            scheduleIdleTicks(pipeline, loop: loop)
        }
    }

    static func openJournal(_ config: ServerConfig, log: (@Sendable (String) -> Void)? = nil) throws(StartupError) -> Journal {
        var options = JournalOptions(path: config.databasePath)
        options.migrationNotice = log
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
        options.maxConnectionsPerAddress = config.limits.maxConnectionsPerAddress
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
            log("WARNING: OPEN: anonymous \(anonymousRole.rawValue) access for every client of this loopback listener (allowAnonymousViewers); behind a proxy on this host that means every proxied client: use tokens on shared hosts")
        } else if config.allowAnonymousViewers {
            log("anonymous access: off (allowAnonymousViewers is honoured only on a loopback listener, not \(config.host)); tokens required")
        } else {
            log("anonymous access: off; tokens required")
        }
        log("hosts served: \(ServerContext.describeHosts(config)); /healthz and /metrics detail: admin token\(anonymousRole == .admin ? " or anonymous" : "")")
        log("sources: \(config.sources.isEmpty ? "none" : config.sources.joined(separator: ", "))\(config.echo ? "; /echo enabled" : "")")
        if let tls { log("TLS: certificate \(tls.certificateChainFile), key \(tls.privateKeyFile) (reloaded on SIGHUP)") }
        log("listening on \(http)://\(hostForURL):\(port)")
        log("open \(http)://\(hostForURL):\(port)/ in a browser, or watch in a terminal: wscat -c '\(ws)://\(hostForURL):\(port)/ws?format=text'")
    }

    /// SIGINT/SIGTERM (read from a signalfd on the loop): stop monitors, stop accepting, close
    /// every client with 1001, wait for a bounded drain, stop the loop. A second signal exits at once.
    /// SIGHUP: reload the TLS certificate and key for new connections (see `reloadTLS`).
    static func installShutdown(_ signals: ShutdownSignals, loop: EventLoop, context: ServerContext,
                                supervisor: MonitorSupervisor, tokens: TokenWatch, log: @escaping @Sendable (String) -> Void) {
        var draining = false
        loop.watchSignals(fd: signals.fd) { signalNumber in
            if signalNumber == SIGHUP {
                tokens.reload(context, reason: "SIGHUP")
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

    /// Writes the refusal audit's per-address summaries once per interval.
    static func scheduleRefusalAuditFlush(_ context: ServerContext) {
        context.loop.schedule(after: RefusalAudit.interval) {
            context.refusals.flush()
            scheduleRefusalAuditFlush(context)
        }
    }

    static func beginDrain(_ context: ServerContext, log: @escaping @Sendable (String) -> Void) {
        context.shuttingDown = true
        context.refusals.flush()
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
        guard required || FileManager.default.fileExists(atPath: path) else { return LedgerConfig() }
        do { return try AccountsFile.load(path: path) } catch {
            throw StartupError(description: "accounts file \(humane(error.description)) (fix the file, or set accountsFile in the config file to a good one or null)")
        }
    }

    static func loadTokens(_ config: ServerConfig) throws(StartupError) -> TokenStore {
        let (path, required) = config.effectiveTokensFile
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw StartupError(description: "tokens file \(path): not found (create it with `ladderwire token add`, or fix tokensFile in the config file)") }
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

/// One log line as a JSON object on stdout, for collectors (Loki, Elasticsearch, journald's
/// JSON output): `{"time":"2026-11-24T14:30:00.123Z","level":"info","msg":"listening on …"}`.
/// `level` is `warn` for lines starting with WARNING, `error` for failures, else `info`.
public func writeJSONLogLine(_ text: String) {
    let level = text.hasPrefix("WARNING") ? "warn" : (text.contains("failed") || text.hasPrefix("ERROR") ? "error" : "info")
    writeLine("{\"time\":\(Operations.jsonString(isoString(wallClockNanos()))),\"level\":\"\(level)\",\"msg\":\(Operations.jsonString(text))}")
}

/// One line to stderr.
public func writeError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    bytes.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
}
